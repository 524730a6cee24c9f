"""Entries whose texts say the same thing, found once, when a text is indexed, never when a page is viewed.

Each entry's text has its MinHash bands (contest.minhash) in `entry_band`. When an entry's bands change, its
candidates are the entries of its call sharing a band with it, read by the bands' index a few at a time from
either side of its id in each bucket (so a bucket of ten thousand alike texts costs what a bucket of two does),
those sharing most bands first; the first CHECKED of them are compared by the exact share of their shingles, and
the KEPT best at or above SIMILAR are stored in `similar_entry`, which the common-issues view reads by its index.
An entry's rows go with it (foreign keys) and are made again when its text changes (a tag given, which rewrites the
words but not the bands, leaves them be). The hint beside a citizen's new idea reads the bands the same bounded way.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sqlalchemy import BigInteger, Integer, Select, bindparam, delete, func, or_, select, text, union_all

from contest.database import insert_rows
from contest.minhash import jaccard, shingles, text_bands
from contest.models import Entry, EntryBand, SimilarEntry

SIMILAR = 0.5  # Jaccard similarity of the shingles from which two texts are shown as saying the same thing
PER_SIDE = 4  # entries read on each side of an id in each of its 16 buckets: at most 128 band rows an entry
CHECKED = 24  # candidates whose shingles are compared, those sharing most bands first
KEPT = 8  # pairs kept for an entry indexed, the most similar first
CHUNK = 500


def entry_text(title: str | None, description: str | None) -> str:
    """The text of an entry that is compared: its title and its description."""
    return f"{title or ''} {description or ''}"


def candidates(connection, call_id: int, values: list[int], around: int | None = None,
               limit: int = CHECKED) -> list[int]:
    """The entries of the call sharing most of these bands (a value per band), at most `limit`: in each band's
    bucket only the PER_SIDE entries nearest to the id `around` on each side of it are read (without `around`,
    the 2 x PER_SIDE newest): one statement of index seeks, whatever the buckets hold."""
    if not values:
        return []
    return list(connection.execute(candidates_query(call_id, values, around, limit)).scalars())


def candidates_query(call_id: int, values: list[int], around: int | None = None, limit: int = CHECKED):
    """The statement `candidates` runs, with its values bound."""
    params = {"call_id": call_id, "around": around, "limit": limit}
    params.update((f"value_{band}", value) for band, value in enumerate(values))
    return _candidates_statement(len(values), around is not None).params(params)


@cache
def _candidates_statement(bands: int, around: bool) -> Select:
    """Made once for each shape (an entry is compared with thousands in bulk: building the statement of 32
    subqueries each time cost more than running it)."""
    parts = []
    for band in range(bands):
        bucket = select(EntryBand.entry_id).where(EntryBand.call_id == bindparam("call_id", type_=Integer),
                                                  EntryBand.band == band,
                                                  EntryBand.value == bindparam(f"value_{band}", type_=BigInteger))
        if around:
            around_id = bindparam("around", type_=Integer)
            parts.append(bucket.where(EntryBand.entry_id < around_id).order_by(EntryBand.entry_id.desc())
                         .limit(PER_SIDE))
            parts.append(bucket.where(EntryBand.entry_id > around_id).order_by(EntryBand.entry_id).limit(PER_SIDE))
        else:
            parts.append(bucket.order_by(EntryBand.entry_id.desc()).limit(2 * PER_SIDE))
    found = union_all(*[select(part.subquery().c.entry_id) for part in parts]).subquery()
    return (select(found.c.entry_id).group_by(found.c.entry_id)
            .order_by(func.count().desc(), found.c.entry_id.desc()).limit(bindparam("limit", type_=Integer)))


# On PostgreSQL, one statement for a whole chunk of entries, where a LATERAL subquery reads each band's few
# neighbours: what `candidates` finds for each entry (tests/integration/test_similar.py holds them equal), without
# a statement an entry (5 to 7 ms each: a quarter of an hour for the city's 165,000 entries in bulk).
_NEIGHBOURS = text("""
    SELECT entry_id, array_agg(other_id ORDER BY place) FROM (
    SELECT a.entry_id, c.entry_id AS other_id,
           row_number() OVER (PARTITION BY a.entry_id ORDER BY count(*) DESC, c.entry_id DESC) AS place
    FROM entry_band a CROSS JOIN LATERAL (
        (SELECT b.entry_id FROM entry_band b
         WHERE b.call_id = a.call_id AND b.band = a.band AND b.value = a.value AND b.entry_id < a.entry_id
         ORDER BY b.entry_id DESC LIMIT :per_side)
        UNION ALL
        (SELECT b.entry_id FROM entry_band b
         WHERE b.call_id = a.call_id AND b.band = a.band AND b.value = a.value AND b.entry_id > a.entry_id
         ORDER BY b.entry_id LIMIT :per_side)
    ) c
    WHERE a.entry_id = ANY(:ids)
    GROUP BY a.entry_id, c.entry_id) AS found
    WHERE place <= :limit
    GROUP BY entry_id""")


def neighbours(connection, ids: list[int], limit: int = CHECKED) -> dict[int, list[int]]:
    """`candidates` of each of these entries that has bands, from their stored bands, in one statement
    (PostgreSQL only): the database keeps each one's first `limit`, and sends them as one array an entry."""
    return dict(connection.execute(_NEIGHBOURS, {"ids": ids, "per_side": PER_SIDE, "limit": limit}).all())


def write_bands(connection, rows, *, every: bool = False) -> dict[int, list[int]]:
    """The MinHash bands of entries' texts (rows of id, title, description, call id), written again; the bands of
    those whose bands changed (of all of them with `every`), whose similar entries are to be found again."""
    ids = [r[0] for r in rows]
    before: dict[int, list[tuple[int, int]]] = {}
    if not every:
        for entry_id, band, value in connection.execute(
                select(EntryBand.entry_id, EntryBand.band, EntryBand.value).where(EntryBand.entry_id.in_(ids))):
            before.setdefault(entry_id, []).append((band, value))
    connection.execute(delete(EntryBand).where(EntryBand.entry_id.in_(ids)))
    bands = {r[0]: text_bands(entry_text(r[1], r[2])) for r in rows}
    insert_rows(connection, EntryBand, [{"entry_id": i, "band": n, "call_id": c, "value": v}
                                        for i, _t, _d, c in rows for n, v in enumerate(bands[i])])
    return {i: values for i, values in bands.items()
            if every or sorted(before.get(i, [])) != list(enumerate(values))}


def rewrite_pairs(connection, rows, bands: dict[int, list[int]]) -> None:
    """Find again the similar entries of these entries (rows of id, title, description, call id, with the bands
    write_bands gave them), once the bands of all of them are stored (so that what an entry finds does not depend
    on the chunk it fell in): their pairs forgotten, then each one's best found."""
    rows = sorted(rows, key=lambda r: r[0])
    for start in range(0, len(rows), CHUNK):
        chunk = [r[0] for r in rows[start:start + CHUNK]]
        connection.execute(delete(SimilarEntry).where(or_(SimilarEntry.entry_id.in_(chunk),
                                                          SimilarEntry.other_id.in_(chunk))))
    _find_in_chunks(connection, ((rows[start:start + CHUNK], bands) for start in range(0, len(rows), CHUNK)))


def find_pairs(connection, ids, *, after_chunk: Callable[[], None] | None = None) -> None:
    """Store the KEPT most similar entries of each of these entries, from their texts and bands as stored, beside
    the pairs already there, a chunk at a time (`after_chunk` called after each: a bulk indexer's commit). Two
    processes may find pairs at once (bench/city.py's fill): each chunk's pairs are written in one order, so that
    two writers of the same pairs wait for each other, never in a circle."""
    ids = sorted(set(ids))
    postgresql = connection.dialect.name == "postgresql"

    def chunks():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            bands: dict[int, list[int]] | None = None  # PostgreSQL reads them itself (`neighbours`)
            if not postgresql:
                bands = {}
                for entry_id, value in connection.execute(select(EntryBand.entry_id, EntryBand.value)
                                                          .where(EntryBand.entry_id.in_(chunk))
                                                          .order_by(EntryBand.entry_id, EntryBand.band)):
                    bands.setdefault(entry_id, []).append(value)
            yield connection.execute(select(Entry.id, Entry.title, Entry.description, Entry.call_id)
                                     .where(Entry.id.in_(chunk)).order_by(Entry.id)).all(), bands

    _find_in_chunks(connection, chunks(), after_chunk)


def _find_in_chunks(connection, chunks, after_chunk: Callable[[], None] | None = None) -> None:
    """The similar entries of each chunk (its rows, and bands by entry id, or None for those stored), in id
    order. The texts read stay for the next chunks (at most the call's: tens of MB at city size), as an entry's
    candidates may be anywhere in its call; their shingles, ten times larger, stay for the next chunk only."""
    texts: dict[int, str] = {}
    parts: dict[int, set[str]] = {}
    previous: set[int] = set()
    for rows, bands in chunks:
        current = {r[0] for r in rows}
        for entry_id in [i for i in parts if i not in current and i not in previous]:
            del parts[entry_id]
        _write_pairs(connection, rows, bands, texts, parts)
        previous = current
        if after_chunk:
            after_chunk()


def _write_pairs(connection, rows, bands: dict[int, list[int]] | None, texts: dict[int, str],
                 parts: dict[int, set[str]]) -> None:
    """The similar entries of these entries (rows of id, title, description, call id, with their bands: None on
    PostgreSQL, which reads those stored), with the texts and the shingles of entries already read (added to)."""
    if connection.dialect.name == "postgresql":  # for the entries with bands stored
        found = neighbours(connection, [r[0] for r in rows])
    else:
        found = {r[0]: candidates(connection, r[3], bands[r[0]], around=r[0]) for r in rows if bands.get(r[0])}
    if not found:
        return
    texts.update((r[0], entry_text(r[1], r[2])) for r in rows)
    missing = sorted({i for cands in found.values() for i in cands} - texts.keys())
    for start in range(0, len(missing), CHUNK):
        texts.update((i, entry_text(t, d)) for i, t, d in connection.execute(
            select(Entry.id, Entry.title, Entry.description).where(Entry.id.in_(missing[start:start + CHUNK]))))

    def shingled(entry_id: int) -> set[str]:
        if entry_id not in parts:
            parts[entry_id] = shingles(texts.get(entry_id, ""))
        return parts[entry_id]

    call_of = {r[0]: r[3] for r in rows}
    pairs: dict[tuple[int, int], dict] = {}
    for entry_id, cands in found.items():
        scored = sorted(((jaccard(shingled(entry_id), shingled(other)), other) for other in cands if other in texts),
                        key=lambda s: (-s[0], s[1]))
        for similarity, other in [s for s in scored if s[0] >= SIMILAR][:KEPT]:
            low, high = min(entry_id, other), max(entry_id, other)
            pairs[(low, high)] = {"entry_id": low, "other_id": high, "call_id": call_of[entry_id],
                                  "similarity": similarity}
    # Two texts indexed at once in two transactions may both find their pair: the first one written stands.
    insert_rows(connection, SimilarEntry, [pairs[key] for key in sorted(pairs)], ignore_conflicts=True)
