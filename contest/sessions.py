"""Which account a browser session stands for: Flask-Login's entry in the session, read and checked here only."""
from __future__ import annotations

import hmac
from typing import NamedTuple

from flask import session


class SessionAccount(NamedTuple):
    """The account a session names, with the session token it was given at login (User.get_id)."""

    id: int
    token: str


def named_account(user_id: str | None) -> SessionAccount | None:
    """The account in Flask-Login's user id as this site writes it ("<id>:<session token>"), unchecked."""
    uid, _, token = (user_id or "").partition(":")
    if not uid.isdigit() or not token:
        return None
    return SessionAccount(int(uid), token)


def session_account() -> SessionAccount | None:
    """The account this request's session names (Flask-Login keeps it as `_user_id`), not yet checked."""
    return named_account(session.get("_user_id"))


def still_stands(account: SessionAccount, active: bool, current_token: str | None) -> bool:
    """Whether a session still stands for its account: the account is there and not disabled, and its session
    token is still the one given at login (logging out everywhere or a new password changes it)."""
    return active and current_token is not None and hmac.compare_digest(current_token, account.token)
