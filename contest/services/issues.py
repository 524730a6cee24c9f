"""A call's common issues: organisers tag entries in their own words, see the most frequent tags with their
entries, and merge near-identical ideas. A merged entry keeps its text, author, images, votes and comparisons
(voters chose it, so nothing is moved); it only points to the entry kept and leaves the public gallery."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, load_only

from contest.extensions import db
from contest.minhash import jaccard, shingles, text_bands
from contest.models import Call, Entry, EntryStatus, EntryTag, Meeting, SimilarEntry, Tag, User
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError, search, similar
from contest.services.audit import record
from contest.services.visibility import Byline, public_bylines, public_entries

TAG_MAX = 60
REASON_MAX = 500


def _check_staff(actor: User, call: Call) -> None:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))


def tag_name(text: str) -> str:
    """A tag as it is stored: trimmed, inner spaces collapsed; refused when empty or too long."""
    name = " ".join((text or "").split())
    if not name:
        raise ServiceError(_("Name the issue: a tag cannot be empty."))
    if len(name) > TAG_MAX:
        raise ServiceError(_("A tag has at most %(n)d characters.", n=TAG_MAX))
    return name


def _check_entries(call: Call, entries: list[Entry]) -> None:
    if not entries:
        raise ServiceError(_("Select at least one entry."))
    if any(e.call_id != call.id for e in entries):
        raise ServiceError(_("Only entries of this call can be tagged."))


def find_tag(call: Call, name: str) -> Tag | None:
    """The call's tag of that name, whatever its letter case."""
    return db.session.scalars(select(Tag).where(Tag.call_id == call.id, func.lower(Tag.name) == name.lower())
                              .order_by(Tag.id).limit(1)).first()


def _get_or_create_tag(actor: User, call: Call, name: str) -> Tag:
    tag = find_tag(call, name)
    if tag is not None:
        return tag
    tag = Tag(call_id=call.id, name=name, created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(tag)
            db.session.flush()
    except IntegrityError:  # another organiser made the same tag at the same moment
        if tag in db.session:
            db.session.expunge(tag)
        tag = find_tag(call, name)
        if tag is None:
            raise
    return tag


def tag_entries(actor: User, call: Call, entries: list[Entry], name: str) -> Tag:
    """Put the tag on each entry (made when new); entries already tagged stay as they are."""
    _check_staff(actor, call)
    name = tag_name(name)
    _check_entries(call, entries)
    tag = _get_or_create_tag(actor, call, name)
    ids = {e.id for e in entries}
    tagged = set(db.session.scalars(select(EntryTag.entry_id).where(EntryTag.tag_id == tag.id,
                                                                    EntryTag.entry_id.in_(ids))))
    new = sorted(ids - tagged)
    now = utcnow()
    db.session.add_all([EntryTag(entry_id=i, tag_id=tag.id, tagged_at=now, tagged_by_id=actor.id) for i in new])
    db.session.flush()
    search.reindex_tagged(db.session, tag.name)  # a word of the dictionary now, and of these entries
    record(actor, "tag.add", "tag", tag.id, call_id=call.id, name=tag.name, entry_ids=new)
    return tag


def untag_entries(actor: User, call: Call, entries: list[Entry], tag: Tag) -> int:
    """Take the tag off the entries; a tag left on no entry is deleted. Returns how many entries lost it."""
    _check_staff(actor, call)
    if tag.call_id != call.id:
        raise ServiceError(_("Choose a tag of this call."))
    _check_entries(call, entries)
    ids = [e.id for e in entries]
    removed = db.session.execute(delete(EntryTag).where(EntryTag.tag_id == tag.id, EntryTag.entry_id.in_(ids))
                                 .execution_options(synchronize_session=False)).rowcount
    record(actor, "tag.remove", "tag", tag.id, call_id=call.id, name=tag.name, entry_ids=sorted(ids))
    search.index_entries(db.session.connection(), ids)
    if db.session.scalar(select(func.count()).select_from(EntryTag).where(EntryTag.tag_id == tag.id)) == 0:
        _delete(actor, tag)
    return removed


def delete_tag(actor: User, call: Call, tag: Tag) -> None:
    """Take the tag off every entry and forget it."""
    _check_staff(actor, call)
    if tag.call_id != call.id:
        raise ServiceError(_("Choose a tag of this call."))
    _delete(actor, tag)


def _delete(actor: User, tag: Tag) -> None:
    entry_ids = sorted(db.session.scalars(select(EntryTag.entry_id).where(EntryTag.tag_id == tag.id)))
    db.session.execute(delete(EntryTag).where(EntryTag.tag_id == tag.id)
                       .execution_options(synchronize_session=False))
    record(actor, "tag.delete", "tag", tag.id, call_id=tag.call_id, name=tag.name, entry_ids=entry_ids)
    db.session.delete(tag)
    db.session.flush()
    search.index_entries(db.session.connection(), entry_ids)


@dataclass
class Issue:
    tag: Tag
    count: int
    entries: list[Entry] = field(default_factory=list)


def _entry_options():
    return (load_only(Entry.id, Entry.call_id, Entry.title, Entry.status, Entry.channel, Entry.author_id,
                      Entry.author_name, Entry.meeting_id, Entry.merged_into_id, Entry.merged_at,
                      Entry.merge_reason, Entry.created_at),
            joinedload(Entry.author))


ISSUE_ENTRIES_SHOWN = 10  # entries listed under each issue; the others are one link away
ENTRIES_PAGE = 50  # entries on one page of the list to tag
MERGED_SHOWN = 50  # merged entries listed, the latest first


def common_issues(call: Call, shown: int = ISSUE_ENTRIES_SHOWN) -> list[Issue]:
    """The call's tags, most frequent first, each with its count and its first `shown` entries: two queries
    whatever the number of tags or of tagged entries."""
    count = func.count(EntryTag.entry_id)
    rows = db.session.execute(
        select(Tag, count).outerjoin(EntryTag, EntryTag.tag_id == Tag.id).where(Tag.call_id == call.id)
        .group_by(Tag.id).order_by(count.desc(), Tag.name, Tag.id)
    ).all()
    issues = {tag.id: Issue(tag, n) for tag, n in rows}
    if issues:
        place = func.row_number().over(partition_by=EntryTag.tag_id, order_by=EntryTag.entry_id).label("place")
        first = (select(EntryTag.tag_id, EntryTag.entry_id, place)
                 .where(EntryTag.tag_id.in_(list(issues))).subquery())
        for tag_id, entry in db.session.execute(
            select(first.c.tag_id, Entry).join(Entry, Entry.id == first.c.entry_id)
            .where(first.c.place <= shown).options(*_entry_options()).order_by(Entry.id)
        ).unique():
            issues[tag_id].entries.append(entry)
    return list(issues.values())


def tags_of(entries: list[Entry]) -> dict[int, list[Tag]]:
    """The tags of each of these entries (a page of the list), in one query."""
    found: dict[int, list[Tag]] = {}
    if entries:
        for entry_id, tag in db.session.execute(
                select(EntryTag.entry_id, Tag).join(Tag, Tag.id == EntryTag.tag_id)
                .where(EntryTag.entry_id.in_([e.id for e in entries])).order_by(Tag.name, Tag.id)):
            found.setdefault(entry_id, []).append(tag)
    return found


def taggable_entries(call: Call, after: int | None = None, tag_id: int | None = None,
                     per_page: int = ENTRIES_PAGE) -> tuple[list[Entry], int | None]:
    """One page of the entries an organiser may tag and merge (approved ones and those waiting), by id from after
    the id `after` (a seek, never a deep OFFSET), only those carrying the tag `tag_id` when given; and the id the
    next page follows (None: this is the last)."""
    stmt = select(Entry).where(Entry.call_id == call.id,
                               Entry.status.in_([EntryStatus.APPROVED, EntryStatus.SUBMITTED]))
    if after is not None:
        stmt = stmt.where(Entry.id > after)
    if tag_id is not None:
        stmt = stmt.where(Entry.id.in_(select(EntryTag.entry_id).where(EntryTag.tag_id == tag_id)))
    entries = list(db.session.scalars(stmt.options(*_entry_options()).order_by(Entry.id).limit(per_page + 1))
                   .unique())
    return entries[:per_page], (entries[per_page - 1].id if len(entries) > per_page else None)


def merged_entries(call: Call, limit: int = MERGED_SHOWN) -> tuple[list[tuple[Entry, Entry]], int]:
    """The call's latest merged entries, each with the entry it is merged into, and how many are merged."""
    kept = aliased(Entry)
    merged = Entry.call_id == call.id, Entry.merged_into_id.is_not(None)
    rows = db.session.execute(
        select(Entry, kept).join(kept, kept.id == Entry.merged_into_id).where(*merged)
        .options(load_only(Entry.id, Entry.title, Entry.merged_into_id, Entry.merge_reason, Entry.merged_at),
                 load_only(kept.id, kept.title))
        .order_by(Entry.merged_at.desc(), Entry.id.desc()).limit(limit)).all()
    total = db.session.scalar(select(func.count()).select_from(Entry).where(*merged))
    return [(e, k) for e, k in rows], total


# Merging ----------------------------------------------------------------------------------------

def merge(actor: User, entry: Entry, into: Entry, reason: str) -> None:
    """Merge `entry` into `into` (the one kept): both stay, with their own text, author, votes and comparisons;
    `entry` leaves the public gallery and points to `into`."""
    _check_staff(actor, into.call)
    reason = " ".join((reason or "").split())
    if entry.call_id != into.call_id:
        raise ServiceError(_("Only entries of the same call can be merged."))
    if entry.id == into.id:
        raise ServiceError(_("An entry cannot be merged into itself."))
    if not reason:
        raise ServiceError(_("Give the reason for the merge: it is shown on both entries."))
    if len(reason) > REASON_MAX:
        raise ServiceError(_("The reason has at most %(n)d characters.", n=REASON_MAX))
    # Two organisers merging A into B and B into A at the same moment would make a loop: lock both rows first.
    db.session.scalars(select(Entry).where(Entry.id.in_([entry.id, into.id])).order_by(Entry.id)
                       .with_for_update().execution_options(populate_existing=True)).all()
    if entry.status is not EntryStatus.APPROVED or into.status is not EntryStatus.APPROVED:
        raise ServiceError(_("Only approved entries can be merged."))
    if entry.merged_into_id is not None:
        raise ServiceError(_("“%(title)s” is already merged into another entry.", title=entry.title))
    if into.merged_into_id is not None:
        raise ServiceError(_("“%(title)s” is itself merged into another entry: merge into that one instead.",
                             title=into.title))
    if db.session.scalar(select(func.count()).select_from(Entry).where(Entry.merged_into_id == entry.id)):
        raise ServiceError(_("Other entries are merged into “%(title)s”: un-merge them first, or merge them "
                             "into the kept entry directly.", title=entry.title))
    entry.merged_into_id, entry.merged_at, entry.merged_by_id = into.id, utcnow(), actor.id
    entry.merge_reason = reason
    db.session.flush()
    record(actor, "entry.merge", "entry", entry.id, call_id=entry.call_id, into=into.id, reason=reason)


def unmerge(actor: User, entry: Entry) -> None:
    """Undo a merge: the entry is on its own again and back in the public gallery."""
    _check_staff(actor, entry.call)
    if entry.merged_into_id is None:
        raise ServiceError(_("“%(title)s” is not merged into another entry.", title=entry.title))
    record(actor, "entry.unmerge", "entry", entry.id, call_id=entry.call_id, was_into=entry.merged_into_id,
           reason=entry.merge_reason)
    entry.merged_into_id, entry.merged_at, entry.merged_by_id, entry.merge_reason = None, None, None, ""
    db.session.flush()


@dataclass
class Provenance:
    """Where an entry came from and how it relates to merged ones, for its page."""

    meeting: Meeting | None
    merged_into: Entry | None
    merged_here: list[tuple[Entry, Meeting | None]]
    bylines: dict[int, Byline]  # of the entry and of those merged here, as the public sees them


def provenance(entry: Entry, *, staff: bool = False) -> Provenance:
    """The meeting an entry was raised at, the entry it is merged into, and the entries merged into it with
    their own meetings and, for each, its byline for the public: at most four queries."""
    meeting = db.session.get(Meeting, entry.meeting_id) if entry.meeting_id is not None else None
    merged_into = entry.merged_into if entry.merged_into_id is not None else None
    stmt = (select(Entry, Meeting).outerjoin(Meeting, Meeting.id == Entry.meeting_id)
            .where(Entry.merged_into_id == entry.id).options(joinedload(Entry.author)).order_by(Entry.created_at))
    if not staff:
        stmt = stmt.where(*public_entries(merged=True))
    merged_here = [(e, m) for e, m in db.session.execute(stmt).unique()]
    return Provenance(meeting=meeting, merged_into=merged_into, merged_here=merged_here,
                      bylines=public_bylines(entry.call, [entry, *(e for e, _m in merged_here)]))



@dataclass(frozen=True)
class SimilarPair:
    """Two entries of a call whose texts say nearly the same thing (share of their two-character shingles)."""

    first: Entry
    second: Entry
    similarity: float

    @property
    def key(self) -> str:
        """Where the next page of pairs starts after this one (a seek on the index, never an OFFSET)."""
        return f"{self.similarity!r}_{self.first.id}_{self.second.id}"


SIMILAR_PAIRS = 30  # pairs the common-issues view shows on a page, most similar first


def _pair_key(after: str | None) -> tuple[float, int, int] | None:
    try:
        similarity, first, second = (after or "").split("_")
        return float(similarity), int(first), int(second)
    except ValueError:  # none, or not one we made: the first page
        return None


def similar_pairs(call: Call, after: str | None = None,
                  limit: int = SIMILAR_PAIRS) -> tuple[list[SimilarPair], str | None]:
    """A page of the call's entries (approved or waiting, not merged) whose texts say the same thing, most similar
    first, from after the pair `after` (a pair's key); and the key the next page follows (None: this is the
    last). Read from the pairs stored when the texts were indexed (contest.services.similar), by their index:
    one query, whatever the number of near-duplicates."""
    rows = db.session.execute(similar_pairs_query(call, after, limit + 1)).all()
    pairs = [SimilarPair(a, b, similarity) for similarity, a, b in rows[:limit]]
    return pairs, (pairs[-1].key if len(rows) > limit else None)


def similar_pairs_query(call: Call, after: str | None, limit: int) -> Select:
    """The statement `similar_pairs` runs."""
    first, second = aliased(Entry), aliased(Entry)

    def live(entry):
        return (entry.merged_into_id.is_(None), entry.status.in_([EntryStatus.APPROVED, EntryStatus.SUBMITTED]))

    stmt = (select(SimilarEntry.similarity, first, second)
            .join(first, first.id == SimilarEntry.entry_id).join(second, second.id == SimilarEntry.other_id)
            .where(SimilarEntry.call_id == call.id, *live(first), *live(second)))
    seek = _pair_key(after)
    if seek is not None:
        stmt = stmt.where(tuple_(SimilarEntry.similarity, SimilarEntry.entry_id, SimilarEntry.other_id)
                          < tuple_(*seek))
    return (stmt.options(*[load_only(e.id, e.call_id, e.title, e.status, e.merged_into_id) for e in (first, second)])
            .order_by(SimilarEntry.similarity.desc(), SimilarEntry.entry_id.desc(), SimilarEntry.other_id.desc())
            .limit(limit))


def similar_sent(call: Call, title: str, description: str, limit: int = 5) -> list[Entry]:
    """Public entries of the call saying what a citizen is writing: a hint beside their form, never a block.
    Read through the bands' index as an entry's pairs are found: only a few entries of each band are compared."""
    text = similar.entry_text(title, description)
    values = text_bands(text)
    if not values:
        return []
    ids = similar.candidates(db.session.connection(), call.id, values, limit=limit * 4)
    entries = db.session.scalars(select(Entry).where(Entry.id.in_(ids), *public_entries())).all() if ids else []
    mine = shingles(text)
    scored = sorted(((jaccard(mine, shingles(similar.entry_text(e.title, e.description))), e) for e in entries),
                    key=lambda p: (-p[0], p[1].id))
    return [e for score, e in scored if score >= similar.SIMILAR][:limit]
