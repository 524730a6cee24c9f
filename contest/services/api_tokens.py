"""API tokens: a person makes one for their phone, sees it once, and can revoke it; only its SHA-256 is kept."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from contest.extensions import db
from contest.models import ApiToken, User
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services.audit import record
from contest.text import TOKEN_NAME

PREFIX = "pcd_"  # recognisable in a leaked file or a log, so that it can be found and revoked
MAX_ACTIVE = 20
# last_used_at is a hint for the owner, not an audit trail: write it at most this often, not on every request.
USE_RESOLUTION = timedelta(minutes=5)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, the live ones first, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def create_token(actor: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor: the row, and the token itself, which is never stored and shown only now."""
    name = TOKEN_NAME.check(name)
    if not name:
        raise ServiceError(_("Give the token a name, such as the phone it is for."))
    active = db.session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None)))
    if active >= MAX_ACTIVE:
        raise ServiceError(_("You have %(n)d tokens in use, which is the most an account may have. Revoke one "
                             "you no longer need.", n=MAX_ACTIVE))
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, token_hash=_digest(raw))
    db.session.add(token)
    db.session.flush()
    record(actor, "api_token.create", "api_token", token.id)
    return token, raw


def revoke_token(actor: User, token: ApiToken) -> None:
    if token.user_id != actor.id:
        raise ServiceError(_("This is not your token."))
    if token.revoked_at is not None:
        raise ServiceError(_("This token is already revoked."))
    token.revoked_at = utcnow()
    record(actor, "api_token.revoke", "api_token", token.id)


def revoke_all_tokens(actor: User | None, user: User, reason: str) -> int:
    """Revoke every live token of the user (account recovery must lock out whoever holds one); how many."""
    live = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                          ApiToken.revoked_at.is_(None))))
    now = utcnow()
    for token in live:
        token.revoked_at = now
        record(actor, "api_token.revoke", "api_token", token.id, reason=reason)
    return len(live)


def user_for_token(raw: str) -> User | None:
    """The active user a live token belongs to, or None (unknown, revoked, or the account is disabled)."""
    if not raw or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw))
                              .options(joinedload(ApiToken.user)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > USE_RESOLUTION:
        token.last_used_at = now  # committed with the request's own write, if it makes one
    return token.user
