"""Reaching people off-line: meetings where suggestions are raised, and printed posters with a QR code."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.i18n import Bilingual
from contest.models.calls import Call
from contest.models.departments import Department
from contest.models.types import UTCDateTime, enum_column, utcnow


class MeetingKind(enum.Enum):
    LONG_TABLE = "long_table"  # 长桌会: residents and officials around one table
    PANEL = "panel"  # a hearing or expert panel
    WORKSHOP = "workshop"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(MEETING_KIND_LABELS[self])


MEETING_KIND_LABELS = {
    MeetingKind.LONG_TABLE: _l("Long-table talk"),
    MeetingKind.PANEL: _l("Panel or hearing"),
    MeetingKind.WORKSHOP: _l("Workshop"),
    MeetingKind.OTHER: _l("Other meeting"),
}


class Meeting(Bilingual, db.Model):
    """A meeting of a call; the suggestions raised at it are entries of channel "meeting" linked to it."""

    __tablename__ = "meeting"
    TRANSLATED = ("title", "minutes")

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"))
    venue: Mapped[str] = mapped_column(String(200), default="")  # the room or address
    lat: Mapped[float | None] = mapped_column(Float)  # where it was held (WGS-84, contest.geo)
    lng: Mapped[float | None] = mapped_column(Float)
    kind: Mapped[MeetingKind] = mapped_column(enum_column(MeetingKind))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(300))
    attendees: Mapped[int] = mapped_column(default=0)
    organisations: Mapped[str] = mapped_column(Text, default="")  # one a line
    minutes: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when shown
    minutes_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    call: Mapped[Call] = relationship()
    place: Mapped[Department | None] = relationship()


def new_poster_code() -> str:
    return secrets.token_urlsafe(6)


class Poster(db.Model):
    """A printed poster of a call (for a red mailbox, a community centre): its QR code carries its own code, so
    the entries that arrive through it count as channel "poster"."""

    __tablename__ = "poster"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, default=new_poster_code)
    label: Mapped[str] = mapped_column(String(200))  # where it hangs, e.g. "徐汇区田林街道 红色信箱 3号"
    place_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    call: Mapped[Call] = relationship()
    place: Mapped[Department | None] = relationship()
