"""What comes of a call: the stored rows of its ranking, awards, objections filed during the notice period, and the
follow-up of adopted entries."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.i18n import Bilingual
from contest.models.accounts import User
from contest.models.calls import Call, Prize
from contest.models.entries import Entry
from contest.models.media import Image
from contest.models.types import UTCDateTime, enum_column, utcnow


class ResultRow(db.Model):
    """One row of a call's stored results snapshot (contest.snapshot: the row and its entry's place in each round),
    keyed by its position in the ranking, so that a page of the ranking or one entry's figures is one indexed
    read. The summary is on the call (`Call.results_snapshot`); the snapshot is the published one once the results
    are published, else the organisers' preview, dropped when what it was computed from changes."""

    __tablename__ = "result_row"
    __table_args__ = (UniqueConstraint("call_id", "entry_id"), Index("ix_result_row_rank", "call_id", "rank"))

    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 0 for the first row
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int | None] = mapped_column()
    finalist: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict] = mapped_column(JSON)  # contest.snapshot.row_record_json


class JobKind(enum.Enum):
    """What the worker does for a call's results: compute its snapshot, or mail its entrants of the publication."""

    SNAPSHOT = "snapshot"
    MAIL = "mail"


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FAILED = "failed"
    DONE = "done"


class ResultsJob(db.Model):
    """A piece of a call's results too large for a request, done by the worker (contest/services/results/jobs.py):
    one row per call and kind. A request queues it; a worker claims it (a lease, so that a worker that died leaves
    it to another), writes its progress here as it goes, and marks it done or failed. `generation` counts the
    changes to what a snapshot is computed from: a computation finishing under an older generation is thrown away.
    `cursor` is how far a mailing got (the last entrant's user id told), committed with each batch's mails."""

    __tablename__ = "results_job"
    __table_args__ = (UniqueConstraint("call_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind))
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.QUEUED)
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    stage: Mapped[str] = mapped_column(String(40), default="", server_default="")
    done: Mapped[int] = mapped_column(default=0, server_default="0")
    total: Mapped[int] = mapped_column(default=0, server_default="0")
    cursor: Mapped[int | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 0


class Award(db.Model):
    """A prize tier given to an entry; one award per entry and call."""

    __tablename__ = "award"
    __table_args__ = (UniqueConstraint("call_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    prize_id: Mapped[int] = mapped_column(ForeignKey("prize.id", ondelete="CASCADE"), index=True)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    entry: Mapped[Entry] = relationship()
    prize: Mapped[Prize] = relationship()


class Objection(Bilingual, db.Model):
    """A citizen's objection to a named entry (or to the results as a whole), and the organisers' public answer."""

    __tablename__ = "objection"
    TRANSLATED = ("answer",)  # the organisers' answer; the citizen's reason stays in the language it was written in

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_en: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    entry: Mapped[Entry | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class FollowUpStage(enum.Enum):
    """From design to street, in order."""

    ADOPTED = "adopted"
    REFINING = "refining"
    BUILDING = "building"
    IMPLEMENTED = "implemented"

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self])

    @property
    def position(self) -> int:
        return list(FollowUpStage).index(self)


STAGE_LABELS = {
    FollowUpStage.ADOPTED: _l("Adopted"),
    FollowUpStage.REFINING: _l("Being refined"),
    FollowUpStage.BUILDING: _l("Being built"),
    FollowUpStage.IMPLEMENTED: _l("Implemented"),
}


class FollowUp(db.Model):
    """An adopted entry followed until it is built: its current stage and progress."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), unique=True)
    stage: Mapped[FollowUpStage] = mapped_column(enum_column(FollowUpStage))
    progress: Mapped[int] = mapped_column(default=0)  # per cent
    # Where the built object stands (WGS-84, contest.geo): the adopted idea's point until the organisers say.
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[Call] = relationship()
    entry: Mapped[Entry] = relationship()
    updates: Mapped[list[FollowUpUpdate]] = relationship(
        back_populates="follow_up", cascade="all, delete-orphan",
        order_by="(FollowUpUpdate.happened_on.desc(), FollowUpUpdate.id.desc())")


class FollowUpUpdate(Bilingual, db.Model):
    """A dated step of a follow-up, with an optional photo (its alt text required)."""

    __tablename__ = "follow_up_update"
    TRANSLATED = ("text",)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"), index=True)
    happened_on: Mapped[datetime] = mapped_column(UTCDateTime())
    stage: Mapped[FollowUpStage] = mapped_column(enum_column(FollowUpStage))
    progress: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str | None] = mapped_column(Text)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))
    image_alt: Mapped[str] = mapped_column(String(300), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    follow_up: Mapped[FollowUp] = relationship(back_populates="updates")
    image: Mapped[Image | None] = relationship()
