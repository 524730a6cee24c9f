"""A verified mobile number (China mainland): one number belongs to one account, and nobody sees it.

A number is normalised to E.164 (+86 and eleven digits) and stored only as a keyed HMAC of that form (PHONE_KEY,
else the app's secret), which lets the platform check that no other account holds it, and its last two digits,
shown to its owner alone. A six-digit code goes to it by SMS (contest.sms); only the code's HMAC is kept, it
expires after PHONE_CODE_MINUTES, the answer is compared in constant time, and PHONE_WRONG_CODES wrong answers
lock the number for PHONE_LOCK_MINUTES. Sending is rate-limited per number and per address by the route."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from contest.extensions import db
from contest.localtime import format_moment
from contest.models import PhoneCode, User
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services.audit import record
from contest.sms import SmsError, send_sms

MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


class WrongCode(ServiceError):
    """A wrong or late code: the caller commits, so that the failure counts towards the lock."""


def normalise(raw: str) -> str:
    """+86 and the eleven digits of a mainland mobile number, however it was typed; ServiceError otherwise."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    if not MAINLAND_MOBILE.fullmatch(digits):
        raise ServiceError(_("Enter a mainland China mobile number: eleven digits starting with 1."))
    return "+86" + digits


def _key() -> bytes:
    return (current_app.config["PHONE_KEY"] or current_app.config["SECRET_KEY"]).encode()


def phone_key(number: str) -> str:
    """The keyed HMAC of a normalised number: what is stored instead of it."""
    return hmac.new(_key(), b"phone:" + number.encode(), hashlib.sha256).hexdigest()


def _code_hash(code_id: int, code: str) -> str:
    return hmac.new(_key(), f"code:{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _locked_until(key: str, now):
    return db.session.scalar(select(PhoneCode.locked_until).where(
        PhoneCode.phone_key == key, PhoneCode.locked_until > now).order_by(PhoneCode.locked_until.desc()).limit(1))


def _check_free(user: User, key: str) -> None:
    holder = db.session.scalar(select(User.id).where(User.phone_key == key))
    if holder is not None and holder != user.id:
        raise ServiceError(_("This number is already on another account. One number belongs to one account."))


def send_code(user: User, raw_number: str) -> PhoneCode:
    """Send a new code to the number the person typed (the earlier codes of the account stop counting)."""
    number = normalise(raw_number)
    key = phone_key(number)
    _check_free(user, key)
    now = utcnow()
    locked = _locked_until(key, now)
    if locked is not None:
        raise ServiceError(_("Too many wrong codes were typed for this number: try again after %(when)s.",
                             when=format_moment(locked)))
    for earlier in db.session.scalars(select(PhoneCode).where(PhoneCode.user_id == user.id,
                                                              PhoneCode.used_at.is_(None))):
        earlier.used_at = now  # only the newest code counts
    code = f"{secrets.randbelow(10 ** 6):06d}"
    minutes = current_app.config["PHONE_CODE_MINUTES"]
    row = PhoneCode(user_id=user.id, phone_key=key, phone_last2=number[-2:], code_hash="", sent_at=now,
                    expires_at=now + timedelta(minutes=minutes))
    db.session.add(row)
    db.session.flush()
    row.code_hash = _code_hash(row.id, code)
    with force_locale(user.locale):
        text = _("Your verification code for People's City Design Calls is %(code)s. It expires in %(minutes)d "
                 "minutes. Do not tell it to anyone.", code=code, minutes=minutes)
    try:
        send_sms(number, text)
    except SmsError as error:
        raise ServiceError(_("The text message could not be sent just now. Please try again in a few minutes."))\
            from error
    record(user, "user.phone_code_sent", "user", user.id, code_id=row.id)  # never the number
    return row


def verify_code(user: User, code: str) -> None:
    """Check the code typed against the newest one sent; on success the number is the account's."""
    now = utcnow()
    row = db.session.scalar(select(PhoneCode).where(PhoneCode.user_id == user.id, PhoneCode.used_at.is_(None))
                            .order_by(PhoneCode.id.desc()).limit(1))
    if row is None or row.expires_at <= now:
        raise ServiceError(_("This code has expired or was never sent: ask for a new one."))
    locked = _locked_until(row.phone_key, now)
    if locked is not None:
        raise ServiceError(_("Too many wrong codes were typed for this number: try again after %(when)s.",
                             when=format_moment(locked)))
    typed = re.sub(r"\s", "", code or "")
    if not hmac.compare_digest(_code_hash(row.id, typed), row.code_hash):
        row.failures += 1
        if row.failures >= current_app.config["PHONE_WRONG_CODES"]:
            row.locked_until = now + timedelta(minutes=current_app.config["PHONE_LOCK_MINUTES"])
            record(user, "user.phone_locked", "user", user.id, code_id=row.id)
            raise WrongCode(_("Too many wrong codes were typed for this number: try again after %(when)s.",
                              when=format_moment(row.locked_until)))
        raise WrongCode(_("The code is not correct."))
    _check_free(user, row.phone_key)
    row.used_at = now
    user.phone_key, user.phone_last2, user.phone_verified_at = row.phone_key, row.phone_last2, now
    record(user, "user.phone_verified", "user", user.id, code_id=row.id)


def remove_phone(user: User) -> None:
    user.phone_key, user.phone_last2, user.phone_verified_at = None, "", None
    record(user, "user.phone_removed", "user", user.id)
