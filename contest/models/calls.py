"""Calls: a department's themed public call for designs or ideas, its rules, prizes, topics and timeline."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ColumnElement, ForeignKey, String, Text, UniqueConstraint, cast, false, or_, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from contest.models.judging import Round

from contest.extensions import db
from contest.i18n import Bilingual
from contest.models.accounts import User
from contest.models.departments import Department
from contest.models.media import Image
from contest.models.types import UTCDateTime, enum_column, utcnow


class CallKind(enum.Enum):
    DESIGN = "design"
    IDEA = "idea"

    @property
    def label(self) -> str:
        return str({CallKind.DESIGN: _l("Design call"), CallKind.IDEA: _l("Idea call")}[self])


class CallState(enum.Enum):
    """Computed from the clock and the call's dates, never stored: no job needs to run for a call to open."""

    DRAFT = "draft"
    UPCOMING = "upcoming"  # published, not open yet
    OPEN = "open"
    CLOSED = "closed"  # closed for entries

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS = {
    CallState.DRAFT: _l("Draft"),
    CallState.UPCOMING: _l("Opening soon"),
    CallState.OPEN: _l("Open for entries"),
    CallState.CLOSED: _l("Closed for entries"),
}


class CombineOn(enum.Enum):
    """How the final ranking combines the parts: never raw counts, so a small margin cannot carry full weight."""

    RANKS = "ranks"  # weighted mean of each part's rank (lower is better)
    PERCENTILES = "percentiles"  # weighted mean of each part's percentile (higher is better)

    @property
    def label(self) -> str:
        return str({CombineOn.RANKS: _l("on ranks"), CombineOn.PERCENTILES: _l("on percentiles")}[self])


class Call(Bilingual, db.Model):
    __tablename__ = "call"
    TRANSLATED = ("title", "summary", "brief", "licence_text", "originality_text", "award_statement")

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CallKind] = mapped_column(enum_column(CallKind))
    title: Mapped[str] = mapped_column(String(200))  # Chinese, the text of record; each has its English twin
    title_en: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(500), default="")
    summary_en: Mapped[str | None] = mapped_column(String(1000))
    brief: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when shown
    brief_en: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    cover_image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))
    cover_alt: Mapped[str] = mapped_column(String(300), default="")
    # Submission rules
    image_formats: Mapped[list] = mapped_column(JSON, default=lambda: ["JPEG", "PNG"])
    images_min: Mapped[int] = mapped_column(default=1)
    images_max: Mapped[int] = mapped_column(default=4)
    image_max_mb: Mapped[int] = mapped_column(default=10)
    entries_per_person: Mapped[int] = mapped_column(default=3)
    licence_text: Mapped[str] = mapped_column(Text, default="")
    licence_text_en: Mapped[str | None] = mapped_column(Text)
    # Full-size originals stay with the call's staff unless the organiser publishes them.
    originals_public: Mapped[bool] = mapped_column(default=False)
    originality_text: Mapped[str] = mapped_column(Text, default="")
    originality_text_en: Mapped[str | None] = mapped_column(Text)
    # Timeline
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The final formula, declared before the call opens: the weight of the expert and the public part.
    expert_weight: Mapped[int] = mapped_column(default=100, server_default="100")
    public_weight: Mapped[int] = mapped_column(default=0, server_default="0")
    combine_on: Mapped[CombineOn] = mapped_column(enum_column(CombineOn), default=CombineOn.PERCENTILES,
                                                  server_default=CombineOn.PERCENTILES.value)
    # Results: published into a notice period (公示期), then final. The snapshot is the ranking as published.
    results_top_n: Mapped[int | None] = mapped_column()  # None: the ranking shows every entry
    notice_days: Mapped[int] = mapped_column(default=7, server_default="7")
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    results_final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notice_over_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # organisers told it ended
    # None is written as NULL (a dropped preview), not as JSON's null
    results_snapshot: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), deferred=True)
    award_statement: Mapped[str] = mapped_column(Text, default="", server_default="")  # why awards depart
    award_statement_en: Mapped[str | None] = mapped_column(Text)
    # Comments: closed by the organisers altogether, or only while an expert round of the call is open
    comments_open: Mapped[bool] = mapped_column(default=True, server_default=true())
    comments_closed_while_judging: Mapped[bool] = mapped_column(default=False, server_default=false())

    department: Mapped[Department] = relationship()
    co_departments: Mapped[list[Department]] = relationship(secondary="call_department", order_by="Department.id")
    cover_image: Mapped[Image | None] = relationship()
    themes: Mapped[list[CallTheme]] = relationship(cascade="all, delete-orphan", order_by="CallTheme.id")
    topics: Mapped[list[Topic]] = relationship(cascade="all, delete-orphan", order_by="Topic.position",
                                               back_populates="call")
    prizes: Mapped[list[Prize]] = relationship(cascade="all, delete-orphan", order_by="Prize.position")
    events: Mapped[list[CallEvent]] = relationship(cascade="all, delete-orphan", order_by="CallEvent.at")
    rounds: Mapped[list[Round]] = relationship(cascade="all, delete-orphan", order_by="Round.position",
                                               back_populates="call")

    def state_at(self, now: datetime) -> CallState:
        if self.published_at is None or self.opens_at is None or self.closes_at is None:
            return CallState.DRAFT
        if now < self.opens_at:
            return CallState.UPCOMING
        if now < self.closes_at:
            return CallState.OPEN
        return CallState.CLOSED

    @property
    def state(self) -> CallState:
        return self.state_at(utcnow())

    @classmethod
    def no_results_snapshot(cls) -> ColumnElement[bool]:
        """SQL: no results snapshot is stored: NULL, or the JSON null that a dropped preview was written as before
        the column wrote None as NULL."""
        return or_(cls.results_snapshot.is_(None), cast(cls.results_snapshot, Text) == "null")

    @property
    def departments(self) -> list[Department]:
        return [self.department, *[d for d in self.co_departments if d.id != self.department_id]]

    @property
    def theme_names(self) -> list[str]:
        return [t.name for t in self.themes]


class CallDepartment(db.Model):
    """A co-organising department: its organisers see and edit the call like the lead's."""

    __tablename__ = "call_department"

    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)


class CallTheme(Bilingual, db.Model):
    __tablename__ = "call_theme"
    TRANSLATED = ("name",)
    __table_args__ = (UniqueConstraint("call_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40), index=True)
    name_en: Mapped[str | None] = mapped_column(String(80))


class Topic(Bilingual, db.Model):
    """A sub-question of an idea call ("quality of community space")."""

    __tablename__ = "topic"
    TRANSLATED = ("title", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)

    call: Mapped[Call] = relationship(back_populates="topics")


class Prize(Bilingual, db.Model):
    """A prize tier, in order: first prize, second prize, ..., honourable mention."""

    __tablename__ = "prize"
    TRANSLATED = ("name", "reward")

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(default=1)
    reward: Mapped[str] = mapped_column(String(200), default="")
    reward_en: Mapped[str | None] = mapped_column(String(300))


class CallEvent(db.Model):
    """A dated line of the call's public timeline (publication, changed dates, later rounds and results)."""

    __tablename__ = "call_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    actor: Mapped[User | None] = relationship()
