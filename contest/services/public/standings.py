"""A public round's results so far for its organisers: one page of the entries by votes (or chance to be
preferred), the most first, followed by a seek on (value, entry id), never a deep OFFSET."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from contest.extensions import db
from contest.models import Entry, PublicMode, Round, Vote
from contest.services.public.pairs import stored_pairwise_scores

STANDINGS_PAGE = 50  # entries on one page of a round's results so far


@dataclass(frozen=True)
class Standing:
    entry_id: int
    title: str
    value: float  # votes counted, or the chance to be preferred (0 to 1)


def _key(value: str | None) -> tuple[float, int] | None:
    """The seek key of a page ("value:entry id"), None when absent or malformed (the first page then)."""
    try:
        number, entry_id = (value or "").split(":")
        return float(number), int(entry_id)
    except ValueError:
        return None


def standings(round_: Round, after: str | None = None,
              per_page: int = STANDINGS_PAGE) -> tuple[list[Standing], str | None]:
    """One page of the round's entries by what they gathered, the most first (ties by entry id), after the key
    `after`, and the key of the next page (None: this is the last). A votes round counts in one grouped query and
    reads the titles of the page only; entries with no vote yet are not listed."""
    key = _key(after)
    if round_.public_mode is PublicMode.VOTES:
        count = func.count().label("n")
        counted = (select(Vote.entry_id, count).where(Vote.round_id == round_.id, Vote.voided_at.is_(None))
                   .group_by(Vote.entry_id))
        if key is not None:
            counted = counted.having(or_(count < key[0], and_(count == key[0], Vote.entry_id > key[1])))
        page = counted.order_by(count.desc(), Vote.entry_id).limit(per_page + 1).subquery()
        rows = [Standing(entry_id, title, n) for entry_id, title, n in db.session.execute(
            select(page.c.entry_id, Entry.title, page.c.n).join(Entry, Entry.id == page.c.entry_id)
            .order_by(page.c.n.desc(), page.c.entry_id))]
    else:
        chances = stored_pairwise_scores(round_)  # the caller refreshed it (refresh_pairwise_fit)
        ordered = sorted(chances.items(), key=lambda item: (-item[1], item[0]))
        if key is not None:
            ordered = [(e, c) for e, c in ordered if (-c, e) > (-key[0], key[1])]
        ordered = ordered[:per_page + 1]
        titles = dict(db.session.execute(select(Entry.id, Entry.title).where(Entry.id.in_([e for e, _c in ordered]))
                                         ).all()) if ordered else {}
        rows = [Standing(e, titles.get(e, ""), c) for e, c in ordered]
    if len(rows) > per_page:
        last = rows[per_page - 1]
        return rows[:per_page], f"{last.value!r}:{last.entry_id}"
    return rows, None
