"""Finding entries by their words, in Chinese too: the one search the pages and the API use.

Chinese has no spaces between words, and neither PostgreSQL's parsers nor SQLite's FTS5 tokenizers can find a
two-character word such as 停车 inside a sentence. So an entry's title, description and tags are segmented into
words by jieba, in its Rust implementation (rjieba: the same words, twenty times faster; the call's tag names are
in its dictionary, so an organiser's 适老化 is one word), and the words are
stored, space-separated, in a side table of their own: `entry_search`. On PostgreSQL it holds a tsvector made by
the 'simple' configuration over those words, with a GIN index; on SQLite it is an FTS5 table whose rowid is the
entry's id. A query is segmented the same way and each of its words must match.

The index holds every entry's words whatever its state; who may see which entry is asked of the entry table
(`public_entries`, or the call's staff), so approving, merging or withdrawing an entry needs no re-indexing. The
words are rewritten whenever an entry's title or description is flushed (a session hook, so that every path that
writes an entry keeps the index in step: the forms, the API, staff entry, the archive's import, the demo), and
when a tag is given to entries.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    column,
    event,
    func,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from contest.database import insert_rows
from contest.models import Channel, Entry, EntryTag, Tag
from contest.services import similar

TABLE = "entry_search"
_POSTGRESQL_TABLE = table(TABLE, column("entry_id", Integer), column("words", Text))  # the columns written
MAX_QUERY = 100  # characters of a query; more says nothing a search needs
_WORD = re.compile(r"\w", re.UNICODE)  # a token with no letter or digit (punctuation, spaces) is not a word

_lock = threading.Lock()  # rjieba's segmenter refuses a word added while it cuts a text in another thread
_tokenizer = None
_known_tags: set[str] = set()


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's comparison of models and schema: the search table (and FTS5's own tables behind it) is made
    by its migration alone, with no model."""
    return not (type_ == "table" and name and name.startswith(TABLE))


def _jieba():
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import rjieba

                _tokenizer = rjieba.Jieba()
    return _tokenizer


def learn_words(names) -> None:
    """Put organisers' tag names in the segmenter's dictionary, so that each is found as one word."""
    tokenizer = _jieba()
    with _lock:
        for name in names:
            name = name.strip().lower()
            if name and name not in _known_tags and " " not in name:
                tokenizer.add_word(name, 100_000, None)
                _known_tags.add(name)


def _learn_tags(connection) -> None:
    learn_words(connection.execute(select(Tag.name).distinct()).scalars())


def _words(text: str, *, search_mode: bool) -> list[str]:
    """The words of a text by the segmenter (in search mode, a long word and the words inside it too): its
    tokens with a letter or a digit, without the spaces around them. Under the lock, as learn_words adds words."""
    tokenizer = _jieba()
    with _lock:
        tokens = tokenizer.cut_for_search(text) if search_mode else tokenizer.cut(text)
    return [token for token in (token.strip() for token in tokens) if token and _WORD.search(token)]


def segment(value: str) -> list[str]:
    """The words of a text, as the index stores them: jieba's search mode (a long word and the words inside
    it, 停车位 and 停车), lower-cased, without punctuation."""
    return _words(value.lower(), search_mode=True)


def query_words(query: str) -> list[str]:
    """The words a query asks for, each once, in order (tags made in another process learnt first)."""
    query = query.strip()[:MAX_QUERY].lower()
    words: list[str] = []
    if not query:
        return words
    from contest.extensions import db

    _learn_tags(db.session.connection())
    for token in _words(query, search_mode=False):
        if token not in words:
            words.append(token)
    return words


# -- keeping the index in step --------------------------------------------------------------------------------

def _document(title: str, description: str, tags: list[str]) -> str:
    return " ".join(segment(" ".join([title or "", description or "", *tags])))


def index_entries(connection, entry_ids, *, pairs: bool = True, every: bool = False) -> None:
    """(Re)write the words of these entries, on a connection inside the caller's transaction, and their MinHash
    bands; then, with `pairs`, the similar entries of those whose bands changed (of all of them with `every`),
    once every entry's bands are written."""
    entry_ids = sorted(set(entry_ids))
    if not entry_ids:
        return
    _learn_tags(connection)
    changed_rows: list = []  # of the entries whose bands changed, with their bands
    changed_bands: dict[int, list[int]] = {}
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start:start + 500]
        rows = connection.execute(select(Entry.id, Entry.title, Entry.description, Entry.call_id)
                                  .where(Entry.id.in_(chunk))).all()
        changed = similar.write_bands(connection, rows, every=every)
        changed_rows += [r for r in rows if r[0] in changed]
        changed_bands.update(changed)
        tags: dict[int, list[str]] = {}
        for entry_id, name in connection.execute(
                select(EntryTag.entry_id, Tag.name).join(Tag, Tag.id == EntryTag.tag_id)
                .where(EntryTag.entry_id.in_(chunk))):
            tags.setdefault(entry_id, []).append(name)
        write_words(connection, {i: _document(t, d, tags.get(i, [])) for i, t, d, _ in rows})
    if pairs:
        similar.rewrite_pairs(connection, changed_rows, changed_bands)


def write_words(connection, words: dict[int, str]) -> None:
    """Store the segmented words of these entries (entry id -> words), in place of any they had."""
    if not words:
        return
    if connection.dialect.name == "postgresql":  # its tsvector is a column the database makes from the words
        insert_rows(connection, _POSTGRESQL_TABLE, [{"entry_id": i, "words": w} for i, w in words.items()],
                    update_on=["entry_id"])
    else:
        params = [{"id": i, "words": w} for i, w in words.items()]
        connection.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), params)
        connection.execute(text(f"INSERT INTO {TABLE} (rowid, words) VALUES (:id, :words)"), params)


def stored_words(connection, entry_ids: list[int]) -> dict[int, str]:
    """The segmented words stored for these entries (entry id -> words)."""
    key = "entry_id" if connection.dialect.name == "postgresql" else "rowid"
    return dict(connection.execute(text(f"SELECT {key}, words FROM {TABLE} WHERE {key} IN :ids")
                                   .bindparams(bindparam("ids", expanding=True)), {"ids": list(entry_ids)}).all())


def reindex_all(connection, *, pairs: bool = True) -> int:
    """Index every entry, and find their similar entries again (`flask reindex-search`); without `pairs` (the
    migration that made the index, before the table of similar entries was made), the words and bands alone."""
    ids = connection.execute(select(Entry.id).order_by(Entry.id)).scalars().all()
    index_entries(connection, ids, pairs=pairs, every=True)
    return len(ids)


def reindex_tagged(session: Session, tag_name: str) -> None:
    """A tag is a new dictionary word, and its name is part of the entries it is given to: re-segment the
    entries that hold the word, or are tagged with it."""
    learn_words([tag_name])
    session.flush()
    ids = set(session.scalars(select(Entry.id).where(Entry.title.contains(tag_name, autoescape=True)
                                                     | Entry.description.contains(tag_name, autoescape=True))))
    ids |= set(session.scalars(select(EntryTag.entry_id).join(Tag, Tag.id == EntryTag.tag_id)
                               .where(Tag.name == tag_name)))
    index_entries(session.connection(), ids)


_CHANGED = "contest_search_changed"


@event.listens_for(Session, "before_flush")
def _note_changed_entries(session: Session, flush_context, instances) -> None:
    changed = session.info.setdefault(_CHANGED, set())
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Entry) and (obj in session.new or _text_changed(obj)):
            changed.add(obj)


def _text_changed(entry: Entry) -> bool:
    from sqlalchemy import inspect

    state = inspect(entry)
    return any(state.attrs[name].history.has_changes() for name in ("title", "description"))


@event.listens_for(Session, "after_flush")
def _index_changed_entries(session: Session, flush_context) -> None:
    changed = session.info.pop(_CHANGED, set())
    ids = [e.id for e in changed if e.id is not None and e not in session.deleted]
    if ids:
        index_entries(session.connection(), ids)


# -- searching ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """What a gallery (or the API) narrows its entries to, each optional, all combined."""

    topic_id: int | None = None
    theme_id: int | None = None
    place_id: int | None = None
    tag_id: int | None = None
    channel: Channel | None = None

    @classmethod
    def from_args(cls, args) -> Filters:
        """From a URL's query string; a value that means nothing is no filter."""
        def number(name: str) -> int | None:
            value = args.get(name, type=int)
            return value if value and value > 0 else None

        channel = next((c for c in Channel if c.value == args.get("channel")), None)
        return cls(number("topic"), number("theme"), number("place"), number("tag"), channel)

    def as_args(self) -> dict[str, object]:
        args = {"topic": self.topic_id, "theme": self.theme_id, "place": self.place_id, "tag": self.tag_id,
                "channel": self.channel.value if self.channel else None}
        return {k: v for k, v in args.items() if v is not None}

    def __bool__(self) -> bool:
        return bool(self.as_args())


def found_ids(words: list[str], dialect: str) -> Select:
    """The ids of the entries holding every one of the words, read from the index alone."""
    if dialect == "postgresql":
        return select(text("entry_id")).select_from(text(TABLE)).where(
            text("document @@ plainto_tsquery('simple', :search_words)").bindparams(search_words=" ".join(words)))
    else:
        phrase = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        return select(text("rowid")).select_from(text(TABLE)).where(
            text(f"{TABLE} MATCH :search_words").bindparams(search_words=phrase))


def matching(words: list[str], dialect: str) -> ColumnElement[bool]:
    """Entries holding every one of the words, as a clause on Entry.id."""
    return Entry.id.in_(found_ids(words, dialect))


def filtered(stmt: Select, filters: Filters) -> Select:
    if filters.topic_id:
        stmt = stmt.where(Entry.topic_id == filters.topic_id)
    if filters.theme_id:
        stmt = stmt.where(Entry.theme_id == filters.theme_id)
    if filters.place_id:
        stmt = stmt.where(Entry.place_id == filters.place_id)
    if filters.channel:
        stmt = stmt.where(Entry.channel == filters.channel)
    if filters.tag_id:
        stmt = stmt.where(Entry.id.in_(select(EntryTag.entry_id).where(EntryTag.tag_id == filters.tag_id)))
    return stmt


def narrow(stmt: Select, query: str, filters: Filters, dialect: str) -> tuple[Select, list[str]]:
    """A statement over entries narrowed to a query's words and the filters; the words, for highlighting. An
    empty query (or one of punctuation only) narrows nothing."""
    words = query_words(query)
    if words:
        stmt = stmt.where(matching(words, dialect))
    return filtered(stmt, filters), words


def search_public(query: str, filters: Filters = Filters(), *, call_id: int | None = None) -> Select:
    """Public entries matching a query, across calls or within one, newest first."""
    from contest.extensions import db
    from contest.services.visibility import public_entries

    stmt = select(Entry).where(*public_entries())
    if call_id is not None:
        stmt = stmt.where(Entry.call_id == call_id)
    stmt, _ = narrow(stmt, query, filters, db.engine.dialect.name)
    return stmt.order_by(Entry.id.desc())


def first_hits(query: str, limit: int) -> list[Entry]:
    """The newest public entries across every call that hold the words, with their calls: the list's search."""
    from sqlalchemy.orm import joinedload

    from contest.extensions import db

    return list(db.session.scalars(search_public(query).options(joinedload(Entry.call)).limit(limit)))


COUNT_CAP = 1000  # a search counts its matches up to this many: "more than 1,000" says all a reader needs


def count(stmt: Select, cap: int | None = None) -> int:
    """The entries a statement over entries finds, counted up to `cap + 1` only: a word common to a third of a
    city's ideas costs the same count as a rare one (the ids alone, read no further than needed)."""
    from contest.extensions import db

    return db.session.scalar(counting(stmt, cap)) or 0


def counting(stmt: Select, cap: int | None = None) -> Select:
    """The statement `count` runs."""
    return select(func.count()).select_from(bounded_ids(stmt, cap).subquery())


def bounded_ids(stmt: Select, cap: int | None = None) -> Select:
    """The ids of the entries a statement over entries finds, `cap + 1` at most, in no order."""
    cap = COUNT_CAP if cap is None else cap
    return stmt.order_by(None).with_only_columns(Entry.id).limit(cap + 1)


# -- a page of a call's entries: followed by a seek, never a deep OFFSET ------------------------------------------

SHUFFLE_PRIME = 2_147_483_647  # (id * a + b) mod a prime is a permutation of the ids below it


@dataclass(frozen=True)
class Cursor:
    """Where a page of entries begins: after an entry (the next page), before one (the previous page), at the end
    (the last page) or, with none of them, at the start. Entries are named by their ids in every order, so a link
    holds its place whatever is sent meanwhile."""

    after: int | None = None
    before: int | None = None
    last: bool = False

    @classmethod
    def from_args(cls, args) -> Cursor:
        """From a URL's query string; a value that is no entry id is no cursor (the first page)."""
        def number(name: str) -> int | None:
            value = args.get(name, type=int)
            return value if value and value > 0 else None

        after, before = number("after"), number("before")
        return cls(after=after, before=None if after else before,
                   last=not (after or before) and args.get("last") == "1")

    def as_args(self) -> dict[str, object]:
        args = {"after": self.after, "before": self.before, "last": 1 if self.last else None}
        return {k: v for k, v in args.items() if v is not None}


FIRST = Cursor()
LAST = Cursor(last=True)


@dataclass(frozen=True)
class EntryPage:
    """One page of a call's public entries, where the pages beside it begin (None: there is none that way), and
    how many entries there are: all of the call's, or those a search or a filter finds counted up to
    COUNT_CAP + 1 (`capped`: more than COUNT_CAP were found)."""

    entries: list[Entry]
    next: Cursor | None
    prev: Cursor | None
    total: int
    narrowed: bool
    capped: bool
    words: list[str]  # the query's, for highlighting


@dataclass(frozen=True)
class _Order:
    """The gallery's order: its ORDER BY forwards and backwards, and the clauses of the entries after and before
    one of them."""

    forwards: tuple
    backwards: tuple
    after: Callable[[int], ColumnElement[bool]]  # the entries after the one of this id
    before: Callable[[int], ColumnElement[bool]]


def _order(seed: int | None) -> _Order:
    """Newest first (the id backwards, which the gallery index reads as it is), or during a public round shuffled
    by a visitor's seed, so that no entry wins votes by being first: (id * a + b) mod a prime, one entry's key
    only (no index can read a shuffle; the page is still found without an OFFSET)."""
    if seed is None:
        return _Order((Entry.id.desc(),), (Entry.id.asc(),), lambda i: Entry.id < i, lambda i: Entry.id > i)
    a, b = seed % SHUFFLE_PRIME or 1, (seed * 7919) % SHUFFLE_PRIME
    key = (cast(Entry.id, BigInteger) * a + b) % SHUFFLE_PRIME
    return _Order((key.asc(),), (key.desc(),), lambda i: key > (i * a + b) % SHUFFLE_PRIME,
                  lambda i: key < (i * a + b) % SHUFFLE_PRIME)


def seek(stmt: Select, cursor: Cursor, per_page: int, seed: int | None = None
         ) -> tuple[list[Entry], Cursor | None, Cursor | None]:
    """A page of a statement over entries in the gallery's order from the cursor (a seek on the order's key, read
    one past the page to know whether another follows), and the cursors of the next and previous pages."""
    from contest.extensions import db

    order = _order(seed)
    backwards = cursor.before is not None or cursor.last
    stmt = stmt.order_by(None)
    if cursor.after is not None:
        stmt = stmt.where(order.after(cursor.after))
    elif cursor.before is not None:
        stmt = stmt.where(order.before(cursor.before))
    rows = list(db.session.scalars(stmt.order_by(*(order.backwards if backwards else order.forwards))
                                   .limit(per_page + 1)).unique())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    if not rows:  # past the end (the entries after a cursor were withdrawn meanwhile): the last page is behind
        return rows, None, (LAST if cursor.after is not None else None)
    # Read forwards, a page follows when one more was found, and one precedes when the page began after an entry;
    # read backwards, the other way round.
    following = Cursor(after=rows[-1].id) if (cursor.before is not None if backwards else more) else None
    preceding = Cursor(before=rows[0].id) if (more if backwards else cursor.after is not None) else None
    return rows, following, preceding


def public_page(call, query: str, filters: Filters, cursor: Cursor, per_page: int, *options,
                seed: int | None = None) -> EntryPage:
    """A page of a call's public entries (the gallery's, the API's), narrowed to a query's words and the filters,
    and their count; newest first, or shuffled by `seed`."""
    from contest.extensions import db
    from contest.services.visibility import public_counts

    found = search_public(query, filters, call_id=call.id)
    words = query_words(query)
    narrowed = bool(words or filters)
    if narrowed:
        # The entries found are read once, by the words' index, up to the cap: that is their count, and when they
        # are all there the page is read from them by their ids. Asked for the page with the words' clause, the
        # planner would walk the call's newest entries and ask each for its words, which for a rare word (or one
        # in no entry) is every entry of the call.
        hits = list(db.session.scalars(bounded_ids(found)))
        total = len(hits)
        if total <= COUNT_CAP:
            found = select(Entry).where(Entry.id.in_(hits))
    else:
        total = public_counts([call.id]).get(call.id, 0)
    entries, following, preceding = seek(found.options(*options), cursor, per_page, seed)
    capped = narrowed and total > COUNT_CAP
    return EntryPage(entries, following, preceding, COUNT_CAP if capped else total, narrowed, capped, words)


# -- highlighting ---------------------------------------------------------------------------------------------

def highlight(value: str, words: list[str], *, around: int | None = None) -> Markup:
    """The text, escaped, with the words found marked (<mark>); with `around`, only that many characters either
    side of the first word found (and the text's start when none is)."""
    value = value or ""
    if not words:
        return escape(value[:2 * around] if around else value)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    if around:
        first = pattern.search(value)
        start = max(0, first.start() - around) if first else 0
        end = min(len(value), (first.end() + around) if first else 2 * around)
        value = ("…" if start else "") + value[start:end] + ("…" if end < len(value) else "")
    parts, last = [], 0
    for hit in pattern.finditer(value):
        parts.append(escape(value[last:hit.start()]))
        parts.append(Markup("<mark>%s</mark>") % hit.group(0))
        last = hit.end()
    parts.append(escape(value[last:]))
    return Markup("").join(parts)


@dataclass(frozen=True)
class Choices:
    """What a call's gallery can be narrowed to: only values some public entry has, so no filter is empty."""

    topics: list[tuple[int, str]]
    themes: list[tuple[int, str]]
    places: list[tuple[int, str]]
    tags: list[tuple[int, str]]
    channels: list[Channel]


CHOICE_COLUMNS = {"topic": Entry.topic_id, "theme": Entry.theme_id, "place": Entry.place_id, "channel": Entry.channel}


def _used_values(column, shown) -> Select:
    """The distinct values of a column among some entries, by a skip scan of an index on (call, column): the
    smallest value, then the smallest above it, and so on, each the first row of the index a probe finds (a
    recursive query: one probe a value used, never the entries read whole)."""
    def smallest(above=None):
        beyond = column.is_not(None) if above is None else column > above
        return select(column).where(*shown, beyond).order_by(column).limit(1).scalar_subquery()

    used = select(smallest().label("value")).cte("used", recursive=True)
    used = used.union_all(select(smallest(used.c.value)).where(used.c.value.is_not(None)))
    return select(used.c.value).where(used.c.value.is_not(None))


def choice_statements(call) -> dict[str, Select]:
    """The statements of the call's filter choices: the values its public entries use of each column; for its
    tags, those some public entry carries (asked of each tag, which its index answers at the first entry)."""
    from contest.services.visibility import public_entries_of_published

    shown = public_entries_of_published(call)
    statements = {name: _used_values(column, shown) for name, column in CHOICE_COLUMNS.items()}
    tagged = (select(EntryTag.entry_id).join(Entry, Entry.id == EntryTag.entry_id)
              .where(EntryTag.tag_id == Tag.id, *shown).exists())
    statements["tag"] = select(Tag.id, Tag.name).where(Tag.call_id == call.id, tagged).order_by(Tag.name)
    return statements


def filter_choices(call) -> Choices:
    from contest.extensions import db
    from contest.models import CallTheme, Department

    statements = choice_statements(call)
    used = {name: set(db.session.scalars(statements[name])) for name in CHOICE_COLUMNS}
    topics = [(t.id, t.title) for t in call.topics if t.id in used["topic"]]
    themes = [(t.id, t.name) for t in db.session.scalars(select(CallTheme).where(CallTheme.id.in_(used["theme"]))
                                                        .order_by(CallTheme.id))] if used["theme"] else []
    places = [(d.id, d.display_name) for d in db.session.scalars(
        select(Department).where(Department.id.in_(used["place"])).order_by(Department.id))] if used["place"] else []
    tags = [(i, n) for i, n in db.session.execute(statements["tag"])]
    return Choices(topics, themes, places, tags, [c for c in Channel if c in used["channel"]])
