"""A public round's standing, stored: each entry's counted votes (a votes round) or chance to be preferred (a
pairwise round), made at the round's `standing_made_at` and made again when stale, by the page that finds it so
or by the worker's clock. The organisers' results so far read one page of it, the most first, followed by a seek
on (value, entry id), never a deep OFFSET; their pictures of the ballots per hour and of the crowded addresses are
counted with it (Tallies), so that no view of the page groups every ballot of the round. The results never read
it: they count and fit the ballots themselves."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, exists, func, insert, literal, or_, select

from contest.database import insert_rows
from contest.extensions import db
from contest.models import Entry, PublicMode, Round, RoundKind, RoundStanding, Vote
from contest.models.types import utcnow
from contest.services.public.pairs import pairwise_scores
from contest.services.public.settings import _ballots
from contest.services.public.tallies import HourCount, ballots_per_hour, crowded_addresses

STANDINGS_PAGE = 50  # entries on one page of a round's results so far

# A ballot stored with its time a moment before a standing began to be made may be committed after the standing
# read the ballots: ballots this much older than the standing still make it out of date (it is then made once more,
# needlessly at worst).
_IN_FLIGHT = timedelta(seconds=5)


def _max_age(round_: Round) -> timedelta:
    """How long a standing holds while ballots come in (STANDING_MAX_AGE). A votes round whose last count found
    fewer than STANDING_LIVE_VOTES votes is counted again on the next view after any vote, since such a count
    takes a few milliseconds: its organisers see each vote at once. A fit is an estimate that one answer barely
    moves, and dearer than a count: a pairwise round waits for the max age at any size."""
    if round_.public_mode is PublicMode.VOTES and \
            (round_.standing_ballots or 0) < current_app.config["STANDING_LIVE_VOTES"]:
        return timedelta(0)
    return current_app.config["STANDING_MAX_AGE"]


def standing_stale(round_: Round, max_age: timedelta | None = None, now: datetime | None = None) -> bool:
    """Whether the round's stored standing is to be made again: there is none (or a ballot voided or taken back
    put it out of date), or it is older than `max_age` (by default the round's, `_max_age`) and ballots came
    since. One indexed query at most, whatever the round's size."""
    made = round_.standing_made_at
    if made is None or round_.standing_tallies is None:
        return True
    max_age = _max_age(round_) if max_age is None else max_age
    if (now or utcnow()) - made < max_age:
        return False
    model, _target = _ballots(round_)
    return bool(db.session.scalar(select(exists().where(
        model.round_id == round_.id, model.created_at > made - _IN_FLIGHT))))


def refresh_standing(round_: Round, max_age: timedelta | None = None) -> bool:
    """Count (or fit) the round again and store each entry's standing when the stored one is stale; True when it
    did. The round's row is locked first (on PostgreSQL), so that two views at once make it once. The caller
    commits.

    A votes round is counted by one INSERT ... SELECT grouped by entry (the counts never come into Python); a
    pairwise round is fitted over every counted comparison (pairs.pairwise_scores). The ballots it counted are
    the sum of its ballots per hour, counted with it."""
    made, ballots = db.session.execute(select(Round.standing_made_at, Round.standing_ballots)
                                       .where(Round.id == round_.id).with_for_update()).one()
    # Another view may have made it while this one waited for the lock.
    round_.standing_made_at, round_.standing_ballots = made, ballots
    if not standing_stale(round_, max_age):
        return False
    now = utcnow()
    db.session.execute(delete(RoundStanding).where(RoundStanding.round_id == round_.id))
    if round_.public_mode is PublicMode.VOTES:
        db.session.execute(insert(RoundStanding).from_select(
            ["round_id", "entry_id", "value"],
            select(literal(round_.id), Vote.entry_id, func.count())
            .where(Vote.round_id == round_.id, Vote.voided_at.is_(None)).group_by(Vote.entry_id)))
    else:
        chances = pairwise_scores(round_)
        if chances:
            insert_rows(db.session, RoundStanding, [
                {"round_id": round_.id, "entry_id": entry_id, "value": chance}
                for entry_id, chance in chances.items()])
    tallies = Tallies(ballots_per_hour(round_), crowded_addresses(round_))
    round_.standing_tallies = tallies.to_json()
    round_.standing_made_at, round_.standing_ballots = now, sum(hour.ballots for hour in tallies.hours)
    db.session.flush()
    return True


@dataclass(frozen=True)
class Tallies:
    """What the round's pictures of its ballots show, counted with its standing: the ballots per hour (those of new
    accounts apart) and the addresses many accounts voted from (tallies.py makes both)."""

    hours: list[HourCount]
    addresses: list[tuple[str, int, int]]  # (address, accounts, ballots)

    def to_json(self) -> dict:
        return {"hours": [[h.hour.isoformat(), h.ballots, h.new] for h in self.hours],
                "addresses": [list(a) for a in self.addresses]}

    @classmethod
    def from_json(cls, stored: dict) -> Tallies:
        return cls([HourCount(datetime.fromisoformat(at).astimezone(UTC), ballots, new)
                    for at, ballots, new in stored["hours"]],
                   [(address, accounts, ballots) for address, accounts, ballots in stored["addresses"]])


def stored_tallies(round_: Round) -> Tallies:
    """The ballots per hour and the crowded addresses as counted with the stored standing (the caller refreshed
    it: refresh_standing); none when there is no standing."""
    return Tallies.from_json(round_.standing_tallies) if round_.standing_tallies else Tallies([], [])


def stored_standing(round_: Round, entry_ids: list[int] | None = None) -> dict[int, float]:
    """The stored standing of these entries (a page of the round; None: every entry): one query, no count."""
    if entry_ids is not None and not entry_ids:
        return {}
    statement = select(RoundStanding.entry_id, RoundStanding.value).where(RoundStanding.round_id == round_.id)
    if entry_ids is not None:
        statement = statement.where(RoundStanding.entry_id.in_(entry_ids))
    return dict(db.session.execute(statement).all())


def forget_standing(round_: Round) -> None:
    """The stored standing no longer holds (a ballot was voided, or a vote taken back, which no time of a
    ballot since shows): the next view makes it again."""
    round_.standing_made_at = None


def refresh_open_standings(now: datetime | None = None) -> int:
    """The worker's clock: make the standing again of every open public round, of either mode, that had ballots
    since its standing was made, each committed on its own, so that the rounds' pages rarely find theirs out of
    date. How many were made."""
    now = now or utcnow()
    rounds = db.session.scalars(select(Round).where(
        Round.kind == RoundKind.PUBLIC, Round.opens_at <= now, Round.closes_at > now,
        Round.decided_at.is_(None)).order_by(Round.id)).all()
    made = 0
    for round_ in rounds:
        if standing_stale(round_, timedelta(0), now) and refresh_standing(round_, timedelta(0)):
            made += 1
        db.session.commit()
    return made


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
    """One page of the round's stored standing (the caller refreshed it: refresh_standing), the most first (ties
    by entry id), after the key `after`, and the key of the next page (None: this is the last): one query, by the
    standing's index in that order, with the page's titles. In a votes round, entries with no vote yet are not
    listed."""
    rows = [Standing(entry_id, title, value) for entry_id, title, value in db.session.execute(
        _page(round_, _key(after), per_page + 1))]
    if len(rows) > per_page:
        last = rows[per_page - 1]
        return rows[:per_page], f"{last.value!r}:{last.entry_id}"
    return rows, None


def _page(round_: Round, key: tuple[float, int] | None, limit: int):
    """The statement of a page of the stored standing after `key`: read by ix_round_standing_order, in its order."""
    statement = (select(RoundStanding.entry_id, Entry.title, RoundStanding.value)
                 .join(Entry, Entry.id == RoundStanding.entry_id).where(RoundStanding.round_id == round_.id))
    if key is not None:
        # `value <= ` bounds the index's range; the rest skips the ties already shown.
        statement = statement.where(RoundStanding.value <= key[0], or_(
            RoundStanding.value < key[0], and_(RoundStanding.value == key[0], RoundStanding.entry_id > key[1])))
    return statement.order_by(RoundStanding.value.desc(), RoundStanding.entry_id).limit(limit)
