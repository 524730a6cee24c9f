"""Figures across the published calls, or those a department runs: entries by channel, participant group,
department and month; the share of entries answered; adoption and implementation rates.

Public figures only: published calls, and breakdowns of approved entries (never a name or an address). Every
figure comes from an aggregate query, so a page costs the same handful of queries whatever the number of calls
and entries. A department's figures cover the calls it or any department under it runs, as lead or co-organiser.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, union
from sqlalchemy.orm import aliased

from contest.extensions import db
from contest.localtime import site_zone
from contest.models import (
    CHANNEL_LABELS,
    GROUP_LABELS,
    Call,
    CallDepartment,
    Channel,
    Department,
    Entry,
    EntryStatus,
    FollowUp,
    FollowUpStage,
    ParticipantGroup,
    User,
)
from contest.models.types import utcnow
from contest.permissions import calls_run_by
from contest.services.map import counts_by_district
from contest.services.visibility import public_entries

MONTHS = 12
NOT_GIVEN = "none"  # the key of the row for entries without a group or a place
NOT_GIVEN_GROUP = _l("Not given")
NO_PLACE = _l("No place given")


@dataclass
class Row:
    """One bar of a chart and one line of its table: a stable key (an enum value, a department id, "2025-03"),
    its label in the page's language, and the count."""

    key: str | int
    label: str
    count: int
    department: Department | None = None


@dataclass
class Statistics:
    calls: int  # published calls in scope
    received: int  # entries sent, withdrawn ones left out
    approved: int
    answered: int  # approved or rejected: the organisers moderated them
    decided: int  # approved entries of calls whose results are published
    adopted: int  # of those, the ones with a follow-up
    implemented: int  # of those, the ones built
    by_channel: list[Row] = field(default_factory=list)
    by_group: list[Row] = field(default_factory=list)
    by_place: list[Row] = field(default_factory=list)
    by_organiser: list[Row] = field(default_factory=list)
    by_month: list[Row] = field(default_factory=list)
    by_district: dict[str, int] = field(default_factory=dict)  # the outlines' district name -> count

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.received if self.received else None

    @property
    def adoption_rate(self) -> float | None:
        return self.adopted / self.decided if self.decided else None

    @property
    def implementation_rate(self) -> float | None:
        return self.implemented / self.adopted if self.adopted else None


def published_calls(department: Department | None = None):
    """The ids of the published calls in scope: all of them, or those the department or any department under it
    runs, as lead or as co-organiser (a statement to use as a subquery)."""
    calls = select(Call.id).where(Call.published_at.is_not(None))
    if department is None:
        return calls
    subtree = select(Department.id.label("id")).where(Department.id == department.id).cte("subtree", recursive=True)
    child = aliased(Department)
    subtree = subtree.union_all(select(child.id).where(child.parent_id == subtree.c.id))
    return calls.where(Call.id.in_(calls_run_by(select(subtree.c.id))))


def statistics(department: Department | None = None, *, now: datetime | None = None) -> Statistics:
    """The figures of every published call, or of a department's (eight queries, whatever the numbers)."""
    scope = published_calls(department)
    approved = (Entry.call_id.in_(scope), *public_entries(merged=True))  # merged ones are entries in their own right
    calls = db.session.scalar(select(func.count()).select_from(scope.subquery()))
    by_status = dict(db.session.execute(
        select(Entry.status, func.count()).where(Entry.call_id.in_(scope)).group_by(Entry.status)).all())
    received = sum(n for status, n in by_status.items() if status is not EntryStatus.WITHDRAWN)
    decided, adopted, implemented = db.session.execute(
        select(func.count(Entry.id), func.count(FollowUp.id),
               func.count(case((FollowUp.stage == FollowUpStage.IMPLEMENTED, FollowUp.id))))
        .select_from(Entry).join(Call, Call.id == Entry.call_id)
        .outerjoin(FollowUp, FollowUp.entry_id == Entry.id)
        .where(*approved, Call.results_published_at.is_not(None))).one()
    return Statistics(
        calls=calls, received=received, approved=by_status.get(EntryStatus.APPROVED, 0),
        answered=by_status.get(EntryStatus.APPROVED, 0) + by_status.get(EntryStatus.REJECTED, 0),
        decided=decided, adopted=adopted, implemented=implemented,
        by_channel=_by_channel(approved), by_group=_by_group(approved), by_place=_by_place(approved),
        by_organiser=_by_organiser(approved), by_month=_by_month(approved, now or utcnow()),
        by_district=counts_by_district(*approved),
    )


def _by_channel(approved) -> list[Row]:
    counts = dict(db.session.execute(select(Entry.channel, func.count()).where(*approved)
                                     .group_by(Entry.channel)).all())
    return [Row(c.value, str(CHANNEL_LABELS[c]), counts.get(c, 0)) for c in Channel]


def _by_group(approved) -> list[Row]:
    """By the author's group; an entry staff made for someone without an account has no group."""
    counts = dict(db.session.execute(
        select(User.group, func.count()).select_from(Entry).outerjoin(User, User.id == Entry.author_id)
        .where(*approved).group_by(User.group)).all())
    rows = [Row(g.value, str(GROUP_LABELS[g]), counts.get(g, 0)) for g in ParticipantGroup]
    return rows + [Row(NOT_GIVEN, str(NOT_GIVEN_GROUP), counts.get(None, 0))]


def _department_rows(counts) -> list[Row]:
    """Departments with their counts, most first: one query, the counts grouped before the join."""
    rows = db.session.execute(
        select(Department, counts.c.n).select_from(counts)
        .outerjoin(Department, Department.id == counts.c.department_id)).all()
    out = [Row(d.id, d.display_name, n, d) if d is not None else Row(NOT_GIVEN, str(NO_PLACE), n) for d, n in rows]
    return sorted(out, key=lambda r: (r.department is None, -r.count, r.label))


def _by_place(approved) -> list[Row]:
    """By the place in the department tree an entry is about (ideas may name one)."""
    return _department_rows(select(Entry.place_id.label("department_id"), func.count().label("n"))
                            .where(*approved).group_by(Entry.place_id).subquery())


def _by_organiser(approved) -> list[Row]:
    """By the departments running the entry's call: a joint call's entries count for each of its organisers."""
    organisers = union(
        select(Call.id.label("call_id"), Call.department_id.label("department_id")),
        select(CallDepartment.call_id, CallDepartment.department_id),
    ).subquery()
    return _department_rows(
        select(organisers.c.department_id, func.count().label("n")).select_from(Entry)
        .join(organisers, organisers.c.call_id == Entry.call_id).where(*approved)
        .group_by(organisers.c.department_id).subquery())


def _month_of(column, dialect: str, zone: ZoneInfo, now: datetime):
    """"YYYY-MM" of a stored UTC moment in the site's time zone, in SQL."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(zone.key, func.timezone("UTC", column)), "YYYY-MM")
    if dialect == "sqlite":
        # SQLite knows no time zones: shift by the zone's offset now (exact for zones without summer time,
        # such as China's).
        minutes = int(now.astimezone(zone).utcoffset().total_seconds() // 60)
        return func.strftime("%Y-%m", column, f"{minutes:+d} minutes")
    raise NotImplementedError(f"months on {dialect}")


def _by_month(approved, now: datetime) -> list[Row]:
    """Approved entries per month of their sending, the last twelve months (this one included)."""
    zone = site_zone()
    local_now = now.astimezone(zone)
    months = []
    year, month = local_now.year, local_now.month
    for _ in range(MONTHS):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    since = datetime(*months[0], 1, tzinfo=zone).astimezone(UTC)
    inner = (select(_month_of(Entry.created_at, db.session.get_bind().dialect.name, zone, now).label("month"))
             .where(*approved, Entry.created_at >= since).subquery())
    counts = dict(db.session.execute(select(inner.c.month, func.count()).group_by(inner.c.month)).all())
    locale = get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]
    return [Row(f"{y:04d}-{m:02d}", format_skeleton("yMMM", date(y, m, 1), locale=locale),
                counts.get(f"{y:04d}-{m:02d}", 0)) for y, m in months]
