"""Accounts: registration, confirmation, authentication, password resets and ending sessions."""
from __future__ import annotations

import hashlib
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from contest import passwords, text
from contest.extensions import db
from contest.links import external_url
from contest.mail import send_mail
from contest.models import ParticipantGroup, User
from contest.models.accounts import new_session_token
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services.api_tokens import revoke_all_tokens
from contest.services.audit import record
from contest.tokens import TokenExpired, TokenInvalid, make_token, read_token

PASSWORD_METHOD = "scrypt"


@cache
def _dummy_hash() -> str:
    # Checked against when the e-mail is unknown, so an unknown address costs as much time as a known one.
    return generate_password_hash("not a real password", method=PASSWORD_METHOD)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def check_password_rules(password: str, email: str = "") -> None:
    """The password policy, for every way a password is set: registration, change, reset and create-admin."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ServiceError(_("The password must have at least %(n)d characters.", n=minimum))
    if email and password.strip().lower() == normalise_email(email):
        raise ServiceError(_("The password must not be your e-mail address."))
    if passwords.is_common(password):
        raise ServiceError(_("This password is one of the most common ones, which are tried first: choose "
                             "another, such as a few words of your own."))
    if passwords.is_repetitive(password):
        raise ServiceError(_("This password only repeats a few characters or counts up or down (such as aaaa or "
                             "1234): choose another, such as a few words of your own."))


def register_user(
    email: str, password: str, display_name: str, group: ParticipantGroup, locale: str,
    next_url: str | None = None,
) -> User | None:
    """Create an unconfirmed account and mail a confirmation link.

    An address that already has an account gets a mail saying so instead, and the caller shows the
    same page either way: the form must not tell strangers who has an account. `next_url` (a path of this
    site, already checked by the caller) is the page the mail's link leads back to, through the login.
    """
    email = normalise_email(email)
    check_password_rules(password, email)
    display_name = text.display_name(display_name)
    # Hashed whether or not the address has an account: the hash is most of the time a registration takes, so
    # skipping it for a known address would tell strangers by the clock what the page does not.
    password_hash = hash_password(password)
    existing = find_user_by_email(email)
    if existing is None:
        user = User(
            email=email,
            password_hash=password_hash,
            display_name=display_name,
            group=group,
            locale=locale,
        )
        try:
            with db.session.begin_nested():
                db.session.add(user)
                db.session.flush()
        except IntegrityError:  # registered by a concurrent request a moment ago
            existing = find_user_by_email(email)
        else:
            record(user, "user.register", "user", user.id, group=group.value)
            send_confirmation(user, next_url)
            return user
    if existing is not None:
        send_mail(existing.email, existing.locale, "already_registered", user=existing,
                  login_url=external_url("auth.login", next=next_url),
                  reset_url=external_url("auth.forgot_password"))
    return None


def send_confirmation(user: User, next_url: str | None = None) -> None:
    """Mail the link that confirms the address; with `next_url`, the link goes on to that page of the site."""
    token = make_token("confirm-email", {"uid": user.id, "email": user.email})
    send_mail(user.email, user.locale, "confirm_email", user=user,
              url=external_url("auth.confirm_email", token=token, next=next_url),
              days=current_app.config["EMAIL_CONFIRM_MAX_AGE"].days)


def confirm_email(token: str) -> User:
    try:
        data = read_token("confirm-email", token, current_app.config["EMAIL_CONFIRM_MAX_AGE"])
    except TokenExpired:
        raise ServiceError(_("This confirmation link has expired. Log in to get a new one.")) from None
    except TokenInvalid:
        raise ServiceError(_("This confirmation link is not valid.")) from None
    user = db.session.get(User, data.get("uid"))
    if user is None or user.email != data.get("email"):
        raise ServiceError(_("This confirmation link is not valid."))
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        record(user, "user.confirm_email", "user", user.id)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user whose e-mail and password these are, or None; the same for an unknown e-mail."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if user.disabled_at is not None:
        raise ServiceError(_("This account has been disabled. Please contact the site's administrators."))
    return user


def warn_of_failed_logins(email: str) -> None:
    """Mail the owner of this address that many wrong passwords were typed for it (nobody when it has no
    account): a reset link, in case it was not them."""
    user = find_user_by_email(email)
    if user is None or user.disabled_at is not None:
        return
    send_mail(user.email, user.locale, "failed_logins", user=user,
              reset_url=external_url("auth.forgot_password"))
    record(None, "user.failed_logins_warned", "user", user.id)


def record_login(user: User) -> None:
    user.last_login_at = utcnow()


def end_all_sessions(user: User, actor: User | None = None, reason: str = "log_out_everywhere") -> int:
    """Every session of this user, on any device and any app server, is anonymous from now on, and every API
    token is revoked: whoever took over the account must not keep a way in. Returns the tokens revoked."""
    user.session_token = new_session_token()
    return revoke_all_tokens(user if actor is None else actor, user, reason)


def _password_fingerprint(user: User) -> str:
    # Bound into reset links, so a link stops working once the password has changed (single use).
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an active account; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or user.disabled_at is not None:
        return
    token = make_token("reset-password", {"uid": user.id, "pw": _password_fingerprint(user)})
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    send_mail(user.email, user.locale, "reset_password", user=user,
              url=external_url("auth.reset_password", token=token),
              minutes=int(max_age.total_seconds() // 60))


def user_for_reset_token(token: str) -> User:
    try:
        data = read_token("reset-password", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    except TokenExpired:
        raise ServiceError(_("This password reset link has expired. Please ask for a new one.")) from None
    except TokenInvalid:
        raise ServiceError(_("This password reset link is not valid.")) from None
    user = db.session.get(User, data.get("uid"))
    if user is None or user.disabled_at is not None or data.get("pw") != _password_fingerprint(user):
        raise ServiceError(_("This password reset link has already been used or is not valid."))
    return user


def reset_password(token: str, new_password: str) -> int:
    """Set the new password of a reset link, end every session and revoke every API token; the tokens revoked."""
    user = user_for_reset_token(token)
    check_password_rules(new_password, user.email)
    user.password_hash = hash_password(new_password)
    # The link came by mail, so the address is proven too.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    revoked = end_all_sessions(user, reason="reset_password")
    record(user, "user.reset_password", "user", user.id, api_tokens_revoked=revoked)
    return revoked


def change_password(user: User, current_password: str, new_password: str) -> int:
    """Change the password, end every other session and revoke every API token; returns the tokens revoked."""
    if not check_password_hash(user.password_hash, current_password):
        raise ServiceError(_("The current password is not correct."))
    check_password_rules(new_password, user.email)
    user.password_hash = hash_password(new_password)
    revoked = end_all_sessions(user, reason="change_password")
    record(user, "user.change_password", "user", user.id, api_tokens_revoked=revoked)
    return revoked


def update_profile(user: User, display_name: str, group: ParticipantGroup, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ServiceError(_("Unknown language."))
    user.display_name = text.display_name(display_name, staff=user.is_admin or user.is_organiser)
    user.group = group
    user.locale = locale
    record(user, "user.update_profile", "user", user.id)
