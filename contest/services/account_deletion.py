"""Deleting one's own account, as the Personal Information Protection Law lets a person erase their data.

The account row stays as a bare number (no address, name, phone, password or address of a vote), so that what the
person leaves behind keeps its place: their votes and comparisons stay counted under the one-per-person rules, and
their entries in a call that can no longer be changed stay as the call's record, shown as by a "withdrawn
participant". Their entries in a call still open are withdrawn (as they could do themselves), which deletes their
pictures from the storage. Everything else that is theirs goes: which tables hold it is read off the schema, as for
"download my data" (contest.services.personal_data). Each step is in the audit log, with counts and ids only."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update
from werkzeug.security import check_password_hash

from contest.extensions import db
from contest.models import (
    ApiToken,
    Comparison,
    Entry,
    EntryStatus,
    OutboxMail,
    PendingUpload,
    PhoneCode,
    RoundMember,
    User,
    Vote,
)
from contest.models.accounts import new_session_token
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services.api_tokens import revoke_all_tokens
from contest.services.audit import record
from contest.services.entries import check_open, withdraw_entry
from contest.services.media import delete_images

UNUSABLE_PASSWORD = "!deleted"  # no password hashes to this: nobody can log in to what is left


def placeholder_email(user_id: int) -> str:
    """What stands in the account's unique address column once the person is gone (no one's address)."""
    return f"deleted-{user_id}@deleted.invalid"


def refusal(user: User) -> str | None:
    """Why this account cannot be deleted by its owner, or None."""
    if user.is_admin or user.is_organiser:
        return _("An account with a department's role holds that department's record: ask an administrator to "
                 "remove your roles first, then delete your account.")
    return None


def _still_open(entry: Entry) -> bool:
    try:
        check_open(entry.call)
    except ServiceError:
        return False
    return True


def delete_account(user: User, password: str) -> None:
    """Delete the person's account and personal data (the caller commits; the files go once it is committed)."""
    if user.deleted_at is not None:
        raise ServiceError(_("This account has been deleted."))
    if not check_password_hash(user.password_hash, password or ""):
        raise ServiceError(_("The password is not correct."))
    reason = refusal(user)
    if reason:
        raise ServiceError(reason)
    withdrawn = kept = 0
    for entry in db.session.scalars(select(Entry).where(Entry.author_id == user.id).order_by(Entry.id)):
        if entry.status is EntryStatus.WITHDRAWN:
            continue
        if _still_open(entry):
            withdraw_entry(user, entry)  # logged as entry.withdraw, its pictures deleted
            withdrawn += 1
        else:
            record(user, "entry.author_deleted", "entry", entry.id)
            kept += 1
    pending = db.session.scalars(select(PendingUpload).where(PendingUpload.user_id == user.id)).all()
    delete_images([upload.image for upload in pending])
    revoke_all_tokens(user, user, "delete_account")
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    mails = db.session.execute(delete(OutboxMail).where(
        or_(OutboxMail.user_id == user.id, OutboxMail.to == user.email))).rowcount
    db.session.execute(delete(PhoneCode).where(PhoneCode.user_id == user.id))
    # Their places on juries keep the marks they gave (the results were made with them), not who they were.
    db.session.execute(update(RoundMember).where(RoundMember.user_id == user.id)
                       .values(email=placeholder_email(user.id), name=""))
    votes = db.session.execute(update(Vote).where(Vote.user_id == user.id).values(address="")).rowcount
    comparisons = db.session.execute(update(Comparison).where(Comparison.user_id == user.id)
                                     .values(address="")).rowcount
    now = utcnow()
    user.email, user.display_name, user.password_hash = placeholder_email(user.id), "", UNUSABLE_PASSWORD
    user.phone_key, user.phone_last2, user.phone_verified_at = None, "", None
    user.session_token = new_session_token()  # every session of theirs ends now, on every server
    user.disabled_at, user.disabled_reason, user.deleted_at = now, None, now
    user.last_login_at, user.mail_off, user.mail_digest = None, [], False
    record(user, "user.delete", "user", user.id, entries_withdrawn=withdrawn, entries_kept=kept,
           votes_kept=votes, comparisons_kept=comparisons, mails_deleted=mails, uploads_deleted=len(pending))
