"""A call's entries counted by status (those merged into another apart), kept in step with every write through
the session: the totals a city call's gallery, API and console show, read from a few rows whatever its size.

A flush adds what it changed to the counts (a new entry, a status that changed, a merge, a deletion) in one upsert
a count, so that two writers to one call add up rather than overwrite each other. A writer past the session (bulk
inserts: the benchmarks, tests of size) counts the calls it wrote again with `recount`.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session

from contest.database import dialect_insert
from contest.models import Call, Entry, EntryCount, EntryStatus


def _key(call_id, status, merged_into_id) -> tuple:
    return (call_id, status or EntryStatus.SUBMITTED, merged_into_id is not None)


def _before(entry: Entry) -> tuple:
    state = inspect(entry)

    def old(name: str):
        deleted = state.attrs[name].history.deleted
        return deleted[0] if deleted else getattr(entry, name)

    return _key(old("call_id"), old("status"), old("merged_into_id"))


@event.listens_for(Session, "after_flush")
def _count_changes(session: Session, flush_context) -> None:
    deltas: Counter = Counter()
    for obj in session.new:
        if isinstance(obj, Entry):
            deltas[_key(obj.call_id, obj.status, obj.merged_into_id)] += 1
    for obj in session.dirty:
        if isinstance(obj, Entry) and obj not in session.new:
            before, now = _before(obj), _key(obj.call_id, obj.status, obj.merged_into_id)
            if before != now:
                deltas[before] -= 1
                deltas[now] += 1
    gone_calls = {c.id for c in session.deleted if isinstance(c, Call)}
    for obj in session.deleted:
        if isinstance(obj, Entry):
            deltas[_before(obj)] -= 1
    connection = session.connection()
    for (call_id, status, merged), n in sorted(deltas.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2])):
        if n and call_id is not None and call_id not in gone_calls:
            statement = dialect_insert(EntryCount).values(call_id=call_id, status=status, merged=merged, count=n)
            connection.execute(statement.on_conflict_do_update(
                index_elements=["call_id", "status", "merged"], set_={"count": EntryCount.count + n}))


def recount(connection, call_ids: Iterable[int] | None = None) -> None:
    """Count the entries of these calls (of all) again from the entries themselves, in one statement (the
    migration that made the table, and writers past the session)."""
    ids = list(call_ids) if call_ids is not None else None
    connection.execute(delete(EntryCount).where(EntryCount.call_id.in_(ids)) if ids is not None
                       else delete(EntryCount))
    merged = Entry.merged_into_id.is_not(None)
    counted = select(Entry.call_id, Entry.status, merged, func.count()).group_by(Entry.call_id, Entry.status, merged)
    if ids is not None:
        counted = counted.where(Entry.call_id.in_(ids))
    connection.execute(insert(EntryCount).from_select(["call_id", "status", "merged", "count"], counted))
