"""Comments on entries and calls, their "useful" endorsements, and the community's reports that hide them."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.models.accounts import User
from contest.models.departments import Department
from contest.models.types import UTCDateTime, enum_column, utcnow


class CommentStatus(enum.Enum):
    VISIBLE = "visible"
    PENDING = "pending"  # a new account's first comments, until an organiser lets them through
    HIDDEN = "hidden"  # by reports pending review, or by the moderators (then hidden_reason says why)


class ReportCategory(enum.Enum):
    SPAM = "spam"
    ABUSE = "abuse"
    PERSONAL_DATA = "personal_data"
    OFF_TOPIC = "off_topic"

    @property
    def label(self) -> str:
        return str(REPORT_LABELS[self])


REPORT_LABELS = {ReportCategory.SPAM: _l("Spam"), ReportCategory.ABUSE: _l("Abuse"),
                 ReportCategory.PERSONAL_DATA: _l("Personal data"), ReportCategory.OFF_TOPIC: _l("Off topic")}


class Comment(db.Model):
    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # An organiser's official answer, in the name of this department
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"))
    by_entrant: Mapped[bool] = mapped_column(default=False)  # the entry's author answering on their own entry
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    status: Mapped[CommentStatus] = mapped_column(enum_column(CommentStatus), default=CommentStatus.VISIBLE)
    endorsements: Mapped[int] = mapped_column(default=0)
    reports: Mapped[int] = mapped_column(default=0)  # distinct reporters since the last review
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    department: Mapped[Department | None] = relationship()


class CommentEndorsement(db.Model):
    __tablename__ = "comment_endorsement"
    __table_args__ = (UniqueConstraint("comment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommentReport(db.Model):
    __tablename__ = "comment_report"
    __table_args__ = (UniqueConstraint("comment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    category: Mapped[ReportCategory] = mapped_column(enum_column(ReportCategory))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User | None] = relationship()
