"""What the public sees of entries: which entries, and whether their authors are named (not while a blind round
of their call is undecided). Every public page, the API, the exports for the public and the archive ask here."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, false, select

from contest.extensions import db
from contest.models import Call, Entry, EntryCount, EntryStatus, Round, RoundKind


def public_entries(*, merged: bool = False) -> tuple[ColumnElement[bool], ...]:
    """The entries the public sees, as a query clause: approved, of a published call. An entry merged into
    another keeps its address and its place in the results (`merged=True`), but lists and counts show only
    the entry kept."""
    conditions = [Entry.status == EntryStatus.APPROVED,
                  Entry.call_id.in_(select(Call.id).where(Call.published_at.is_not(None)))]
    if not merged:
        conditions.append(Entry.merged_into_id.is_(None))
    return tuple(conditions)


def public_entries_of_published(call: Call) -> tuple[ColumnElement[bool], ...]:
    """`public_entries()` of one call, asked of the call already loaded instead of the call table: the entry's own
    part in the literal words of the partial indexes of a call's public entries (PUBLIC_ROWS), so that the planner
    reads them (a statement over one table, which min() reads from its index at the first row). Nothing, for a
    call not published."""
    from sqlalchemy import false

    from contest.models.entries import PUBLIC_ROWS

    if call.published_at is None:
        return (false(),)
    return (Entry.call_id == call.id, Entry.status == EntryStatus.APPROVED, Entry.merged_into_id.is_(None),
            PUBLIC_ROWS)


def public_counts(call_ids: list[int]) -> dict[int, int]:
    """Public entries per call as the galleries list them (merged ones are shown by the entry kept), in one
    query; a call without any is missing from the answer."""
    if not call_ids:
        return {}
    # Read from the counts kept by contest.services.counts: the entries of public_entries(), counted.
    return dict(db.session.execute(
        select(EntryCount.call_id, EntryCount.count).where(
            EntryCount.call_id.in_(call_ids), EntryCount.status == EntryStatus.APPROVED, EntryCount.merged == false(),
            EntryCount.count > 0, EntryCount.call_id.in_(select(Call.id).where(Call.published_at.is_not(None))))
    ).all())


def is_public(entry: Entry) -> bool:
    """`public_entries(merged=True)` for an entry already loaded."""
    return entry.status is EntryStatus.APPROVED and entry.call.published_at is not None


def authors_hidden(call: Call) -> bool:
    """Whether the public must not learn who wrote the call's entries: the call has a blind expert round and its
    results are not published. From the moment the round exists (its jurors may already be invited), and past
    the round's own decision, since another round of the same call may be judged by the same people: the names
    come back with the results, which are only published once every round is over."""
    if call.results_published_at is not None:
        return False
    return db.session.scalar(select(Round.id).where(
        Round.call_id == call.id, Round.kind == RoundKind.EXPERT, Round.blind.is_(True)).limit(1)) is not None


@dataclass(frozen=True)
class Byline:
    """Who an entry is by, as the public sees it: `hidden` while a blind round is undecided (then `name` is
    empty); otherwise the author's name, empty for an anonymous entry."""

    hidden: bool
    name: str


def public_byline(entry: Entry, *, hidden: bool | None = None) -> Byline:
    """The entry's byline for the public. `hidden`: `authors_hidden(entry.call)` when the caller already knows
    it (a list of one call's entries asks once)."""
    if hidden is None:
        hidden = authors_hidden(entry.call)
    return Byline(hidden=True, name="") if hidden else Byline(hidden=False, name=entry.byline)


def public_bylines(call: Call, entries: list[Entry]) -> dict[int, Byline]:
    """`public_byline` of each of the call's entries, by id, asking the rule once."""
    hidden = authors_hidden(call)
    return {e.id: public_byline(e, hidden=hidden) for e in entries}


def public_entries_of(call: Call, merged: bool = False) -> Select:
    """The statement of a call's entries everyone may see (with `merged`, those merged into another too);
    the caller adds its loader options and order."""
    return select(Entry).where(Entry.call_id == call.id, *public_entries(merged=merged))


def public_entry(entry_id: int, *options) -> Entry | None:
    """An entry everyone may see, with the loader options given, or None."""
    return db.session.scalar(select(Entry).where(Entry.id == entry_id, *public_entries()).options(*options))


def public_titles(call: Call, entry_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Entry id -> title of a call's public entries (of `entry_ids` only, when given), merged ones included (they
    keep their place in results)."""
    stmt = select(Entry.id, Entry.title).where(Entry.call_id == call.id, *public_entries(merged=True))
    if entry_ids is not None:
        stmt = stmt.where(Entry.id.in_(sorted(set(entry_ids))))
    return dict(db.session.execute(stmt).all())
