"""Mail that waits: the outbox every notification goes through, who follows which call, and API tokens for mobile
clients."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.models.accounts import User
from contest.models.types import UTCDateTime, enum_column, utcnow


class MailKind(enum.Enum):
    """The kinds of mail a person may turn off or receive in a daily digest (account mails are always sent)."""

    RECEIVED = "received"  # your entry arrived
    MODERATED = "moderated"  # approved, or rejected with the reason
    ADVANCED = "advanced"  # went on, or not, in a round
    RESULTS = "results"  # results published, with your feedback
    OBJECTION = "objection"  # your objection to the results was answered
    FOLLOW_UP = "follow_up"  # an entry you sent or backed reached a new stage
    JURY = "jury"  # juror invitations, entries assigned, reminders
    FOLLOWING = "following"  # news of a call one follows: a round opens, results, answers, follow-up stages

    @property
    def label(self) -> str:
        return str(MAIL_KIND_LABELS[self])


MAIL_KIND_LABELS = {
    MailKind.RECEIVED: _l("My entry was received"),
    MailKind.MODERATED: _l("My entry was approved or rejected"),
    MailKind.ADVANCED: _l("My entry advanced, or did not, in a round"),
    MailKind.RESULTS: _l("Results were published"),
    MailKind.OBJECTION: _l("My objection to the results was answered"),
    MailKind.FOLLOW_UP: _l("An entry I sent or backed reached a new stage"),
    MailKind.JURY: _l("Juror invitations, entries to score and reminders"),
    MailKind.FOLLOWING: _l("News of a call I follow"),
}


class OutboxMail(db.Model):
    """A mail written in the same transaction as the change that causes it, sent later (or kept for a digest)."""

    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    kind: Mapped[MailKind | None] = mapped_column(enum_column(MailKind))  # None: an account mail
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    digest: Mapped[bool] = mapped_column(default=False)  # waits for the recipient's daily digest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class CallFollower(db.Model):
    """A citizen following a call: told of its news. A row whose stopped_at is set is one who stopped following
    it, kept so that taking part again does not follow it for them again."""

    __tablename__ = "call_follower"

    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    automatic: Mapped[bool] = mapped_column(default=False)  # followed by taking part, not by the button
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(db.Model):
    """A token a mobile client sends as `Authorization: Bearer ...`; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
