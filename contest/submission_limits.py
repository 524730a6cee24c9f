"""The rate limits on sending and changing entries, shared by the web forms and the API: one pair of settings
(SUBMIT_LIMIT_PER_ACCOUNT, SUBMIT_LIMIT_PER_ADDRESS), one counter each, whichever door an entry comes through."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_limiter.util import get_remote_address

from contest.extensions import limiter
from contest.models import User


def submission_limits(submitter: Callable[[], User | None]):
    """Decorate a view that stores an entry's text and files; `submitter` gives the person sending it."""

    def account_key() -> str:
        user = submitter()
        return f"submitter:{user.id}" if user is not None else f"submitter-address:{get_remote_address()}"

    per_account = limiter.shared_limit(lambda: current_app.config["SUBMIT_LIMIT_PER_ACCOUNT"], scope="submit-account",
                                       key_func=account_key, methods=["POST"])
    per_address = limiter.shared_limit(lambda: current_app.config["SUBMIT_LIMIT_PER_ADDRESS"], scope="submit-address",
                                       methods=["POST"])

    def decorate(view):
        return per_address(per_account(view))

    return decorate
