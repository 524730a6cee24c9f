"""The stored results snapshot: computed once (when the organisers first look at the results once every round is
over, or by the worker for a large call as soon as its last round ends, or on publication), then read by the part
each reader needs: the summary on the call (one small JSON value), a page of the ranking or one entry's row from
`result_row` by its key.

Before publication the stored snapshot is the organisers' preview, and it is dropped as soon as anything it was
computed from changes (a vote voided, a score, a round or its entries, an entry's status, the formula): the
session hook below notices the ORM's writes, and the few bulk updates call `discard` themselves. Once published
the snapshot is frozen: nothing changes it.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import delete, event, func, inspect, select, update
from sqlalchemy.orm import Session

from contest.database import insert_rows
from contest.extensions import db
from contest.models import (
    Assignment,
    Call,
    Comparison,
    Criterion,
    Entry,
    ResultRow,
    Round,
    RoundEntry,
    Score,
    Vote,
)
from contest.services.results import jobs
from contest.snapshot import Place, Row, Snapshot, Summary, row_record_from_json, row_record_json

RESULTS_PAGE = 100  # rows of the ranking on one page of the results
INSERT_BATCH = 5000


def store(call: Call, snap: Snapshot) -> Summary:
    """Store a freshly computed snapshot as the call's (replacing the one stored before)."""
    db.session.execute(delete(ResultRow).where(ResultRow.call_id == call.id))
    records = snap.row_records()
    for start in range(0, len(records), INSERT_BATCH):
        insert_rows(db.session, ResultRow, [
            {"call_id": call.id, "position": start + n, "entry_id": row.entry, "rank": row.rank,
             "finalist": row.finalist, "data": row_record_json(row, places)}
            for n, (row, places) in enumerate(records[start:start + INSERT_BATCH])])
    summary = snap.summary()
    db.session.execute(update(Call).where(Call.id == call.id).values(results_snapshot=summary.to_json()))
    return summary


def summary(call: Call) -> Summary | None:
    """The stored summary (published, or the preview), or None when none is stored."""
    value = db.session.scalar(select(Call.results_snapshot).where(Call.id == call.id))
    return Summary.from_json(value) if value is not None else None


def discard(call_ids: Iterable[int]) -> None:
    """Drop the stored preview of these calls (a published snapshot stays as it was published): for the bulk
    updates the session hook below does not see."""
    _discard_previews(db.session, call_ids)


def _discard_previews(session: Session, call_ids: Iterable[int]) -> None:
    ids = sorted(set(call_ids))
    if not ids:
        return
    connection = session.connection()
    # First: a computation being stored now is waited for (its job's row is locked), so that the look below
    # sees what it stored; one still under way is made out of date.
    jobs.changed(ids, connection)
    waiting = list(session.scalars(select(Call.id).where(
        Call.id.in_(ids), Call.results_snapshot.is_not(None), Call.results_published_at.is_(None))))
    if not waiting:
        return
    connection.execute(delete(ResultRow).where(ResultRow.call_id.in_(waiting)))
    connection.execute(update(Call).where(Call.id.in_(waiting), Call.results_published_at.is_(None))
                       .values(results_snapshot=None))
    for call_id in waiting:
        call = session.identity_map.get(session.identity_key(Call, call_id))
        if call is not None and "results_snapshot" not in inspect(call).unloaded:
            session.expire(call, ["results_snapshot"])


# Reading -----------------------------------------------------------------------------------------------------

def _shown(call: Call, shown: bool) -> list:
    where = [ResultRow.call_id == call.id]
    if shown and call.results_top_n:
        where.append(ResultRow.rank <= call.results_top_n)
    return where


def page(call: Call, summary: Summary, number: int, per_page: int = RESULTS_PAGE,
         shown: bool = True) -> tuple[list[Row], int, int]:
    """One page of the ranking (the rows the public sees when `shown`: every entry, or the top N the call chose),
    the page's number (the first when `number` is out of range) and the number of pages: two indexed reads."""
    count = summary.ranked
    if shown and call.results_top_n:
        count = db.session.scalar(select(func.count()).select_from(ResultRow).where(*_shown(call, shown)))
    pages = max(1, -(-count // per_page))
    number = number if 1 <= number <= pages else 1
    data = db.session.scalars(select(ResultRow.data).where(
        *_shown(call, shown), ResultRow.position >= (number - 1) * per_page, ResultRow.position < number * per_page)
        .order_by(ResultRow.position))
    return [Row.from_json(value) for value in data], number, pages


def records(call: Call, shown: bool = False) -> Iterator[tuple[Row, dict[str, Place]]]:
    """Every stored row in the ranking's order with its entry's places, read in batches from a server-side
    cursor (constant memory at city size)."""
    for value in db.session.scalars(select(ResultRow.data).where(*_shown(call, shown)).order_by(ResultRow.position)
                                    .execution_options(yield_per=2000)):
        yield row_record_from_json(value)


def rows(call: Call, shown: bool = False) -> Iterator[Row]:
    return (row for row, _places in records(call, shown))


def row_of(call: Call, entry_id: int) -> tuple[Row, dict[str, Place]] | None:
    """One entry's row and its place in each round (round id as text -> place), or None: one indexed read."""
    value = db.session.scalar(select(ResultRow.data).where(ResultRow.call_id == call.id,
                                                           ResultRow.entry_id == entry_id))
    return row_record_from_json(value) if value is not None else None


def finalist_ids(call: Call, limit: int) -> list[int]:
    """The first `limit` finalists, in the ranking's order."""
    return list(db.session.scalars(select(ResultRow.entry_id).where(ResultRow.call_id == call.id,
                                                                    ResultRow.finalist.is_(True))
                                   .order_by(ResultRow.position).limit(limit)))


def positions(call: Call, entry_ids: Iterable[int]) -> dict[int, int]:
    """The position in the ranking of those of `entry_ids` it has a row for (entry id -> position)."""
    ids = sorted(set(entry_ids))
    return dict(db.session.execute(select(ResultRow.entry_id, ResultRow.position).where(
        ResultRow.call_id == call.id, ResultRow.entry_id.in_(ids))).all()) if ids else {}


def position_in_ranking(call: Call, entry_id):
    """An SQL expression: the position of the entry (a column or an id) in the stored ranking, NULL when it has
    none; to order a list of the call's entries by the ranking."""
    return (select(ResultRow.position).where(ResultRow.call_id == call.id, ResultRow.entry_id == entry_id)
            .scalar_subquery())


def whole(call: Call) -> Snapshot | None:
    """The whole stored snapshot (for the JSON export and the checks that it equals a fresh computation)."""
    value = summary(call)
    return Snapshot.assemble(value, records(call)) if value is not None else None


# Invalidation ------------------------------------------------------------------------------------------------

_CHANGED = "contest_results_changed"
# Changes to an entry that change a ranking or the figures.
ENTRY_FIELDS = ("status", "merged_into_id", "call_id", "author_id", "channel")
CALL_FIELDS = ("expert_weight", "public_weight", "combine_on")


def _changed(obj, names: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _call_of(obj: Round | Entry) -> int | None:
    """The call's id of a round or an entry, also when it was given as the call itself and is not flushed yet."""
    if obj.call_id is not None:
        return obj.call_id
    call = inspect(obj).dict.get("call")
    return call.id if call is not None else None


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, flush_context, instances) -> None:
    """What this flush changes of what a snapshot is computed from: calls, rounds and assignments named."""
    noted = session.info.setdefault(_CHANGED, {"call": set(), "round": set(), "assignment": set()})
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        new, dirty = obj in session.new, obj in session.dirty
        if isinstance(obj, Score):
            if obj.assignment_id is not None:
                noted["assignment"].add(obj.assignment_id)
            elif obj.assignment is not None and obj.assignment.round_id is not None:
                noted["round"].add(obj.assignment.round_id)
        elif isinstance(obj, Assignment | RoundEntry | Criterion):
            if obj.round_id is not None:
                noted["round"].add(obj.round_id)
        elif isinstance(obj, Vote | Comparison):  # cast only while a round is open, when nothing is stored
            if not new and obj.round_id is not None:
                noted["round"].add(obj.round_id)
        elif isinstance(obj, Round):
            if _call_of(obj) is not None and (not dirty or session.is_modified(obj)):
                noted["call"].add(_call_of(obj))
        elif isinstance(obj, Entry):
            if _call_of(obj) is not None and (not dirty or _changed(obj, ENTRY_FIELDS)):
                noted["call"].add(_call_of(obj))
        elif isinstance(obj, Call) and dirty and obj.id is not None and _changed(obj, CALL_FIELDS):
            noted["call"].add(obj.id)


@event.listens_for(Session, "after_flush")
def _discard_changed(session: Session, flush_context) -> None:
    noted = session.info.pop(_CHANGED, None)
    if not noted or not any(noted.values()):
        return
    calls = set(noted["call"])
    rounds = set(noted["round"])
    if noted["assignment"]:
        rounds |= set(session.scalars(select(Assignment.round_id).where(Assignment.id.in_(noted["assignment"]))))
    if rounds:
        calls |= set(session.scalars(select(Round.call_id).where(Round.id.in_(rounds))))
    _discard_previews(session, calls)
