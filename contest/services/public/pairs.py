"""Pairwise comparison: the pair shown (stored), its answer (one per citizen and unordered pair), the fit."""
from __future__ import annotations

import enum
import functools
import random
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, or_, select, union_all, update

from contest import pairwise
from contest.database import insert_ignoring_conflicts
from contest.extensions import db
from contest.models import (
    Comparison,
    Entry,
    Round,
    ShownPair,
    User,
)
from contest.models.types import utcnow
from contest.services import ServiceError, following
from contest.services.public.settings import check_eligible
from contest.services.rounds import (
    CARD_OPTIONS,
    entries_in_round,
    takes_part,
)
from contest.tokens import TokenExpired, TokenInvalid, make_token, read_token

PAIR_MAX_AGE = timedelta(hours=12)


class PairAnswer(enum.Enum):
    """What became of an answer to a pair: counted, or refused (and recorded as refused)."""

    COUNTED = "counted"
    REPEATED = "repeated"  # this citizen's answer to this pair already counts
    STALE = "stale"  # the pair was dropped (an entry left the round): another one is shown now


def next_pair(user: User, round_: Round) -> tuple[Entry, Entry, str] | None:
    """The pair this citizen is to compare, with a token to answer it; None when no new pair is left.

    The pair shown is stored: until it is answered, opening the page again shows it again. A new one favours
    the least seen entries, never the citizen's own, never a pair this citizen has answered.
    """
    check_eligible(user, round_)
    # Ids and authors only: the two entries shown are loaded at the end, not the round's thousands.
    authors = dict(db.session.execute(_statements().authors, {"round_id": round_.id}).all())
    own = {e for e, author in authors.items() if author == user.id}
    answered = _pairs_answered(user, round_)
    shown = _outstanding_pair(user, round_)
    if shown is not None:
        if _still_a_question(shown.left_id, shown.right_id, authors, own, answered):
            return _shown_pair(shown)
        shown.dropped_at = utcnow()
        db.session.flush()
    rng = random.Random(secrets.randbits(64))
    pair = pairwise.choose_pair(list(authors), _appearances(round_), _PairCounts(round_), exclude=own,
                                seen_pairs=answered, rng=rng)
    if pair is None:
        return None
    left, right = pair
    # Two page views at the same moment: the database keeps one outstanding pair, and both show that one.
    insert_ignoring_conflicts(ShownPair, {
        "round_id": round_.id, "user_id": user.id, "nonce": secrets.token_hex(16), "left_id": left,
        "right_id": right, "shown_at": utcnow(), "refusals": 0})
    shown = _outstanding_pair(user, round_)
    if shown is None:  # the other view's pair was answered in between: draw again, with that answer known
        return next_pair(user, round_)
    return _shown_pair(shown)


def _shown_pair(shown: ShownPair) -> tuple[Entry, Entry, str]:
    entries = {e.id: e for e in db.session.scalars(_statements().cards, {"ids": [shown.left_id, shown.right_id]})}
    return entries[shown.left_id], entries[shown.right_id], _pair_token(shown)


def _counted(round_id):
    """The round's counted comparisons (a round's id, or the bind parameter of one)."""
    return (Comparison.round_id == round_id, Comparison.voided_at.is_(None))


@dataclass(frozen=True)
class _Statements:
    """The statements a pair shown and a pair answered run, each built once with its values as bind parameters
    (`round_id`, `user_id`, ...): building a statement and its cache key anew cost more than running it."""

    authors: Select  # the ids and authors of the round's entries
    cards: Select  # the entries `ids`, as a card shows them
    appearances: Select  # how often each entry was compared
    pair_counts: Select  # how often each pair with the entry `entry_id` was compared
    answered: Select  # the pairs this citizen answered
    outstanding: Select  # the pair shown to this citizen and not yet answered
    shown: Select  # the pair shown to this citizen with the `nonce`


@functools.cache
def _statements() -> _Statements:
    round_id, user_id = bindparam("round_id"), bindparam("user_id")
    counted = _counted(round_id)
    sides = union_all(select(Comparison.left_id.label("entry_id")).where(*counted),
                      select(Comparison.right_id.label("entry_id")).where(*counted)).subquery()
    entry_id = bindparam("entry_id")
    return _Statements(
        authors=select(Entry.id, Entry.author_id).where(Entry.id.in_(entries_in_round(round_id))).order_by(Entry.id),
        cards=select(Entry).where(Entry.id.in_(bindparam("ids", expanding=True))).options(*CARD_OPTIONS),
        appearances=select(sides.c.entry_id, func.count()).group_by(sides.c.entry_id),
        pair_counts=select(Comparison.left_id, Comparison.right_id, func.count()).where(
            *counted, or_(Comparison.left_id == entry_id, Comparison.right_id == entry_id))
        .group_by(Comparison.left_id, Comparison.right_id),
        answered=select(Comparison.left_id, Comparison.right_id).where(
            Comparison.round_id == round_id, Comparison.user_id == user_id),
        outstanding=select(ShownPair).where(ShownPair.round_id == round_id, ShownPair.user_id == user_id,
                                            ShownPair.answered_at.is_(None), ShownPair.dropped_at.is_(None)),
        shown=select(ShownPair).where(ShownPair.round_id == round_id, ShownPair.user_id == user_id,
                                      ShownPair.nonce == bindparam("nonce")),
    )


def _appearances(round_: Round) -> Counter:
    """How often each entry of the round was compared (counted answers), in one grouped query."""
    return Counter(dict(db.session.execute(_statements().appearances, {"round_id": round_.id}).all()))


class _PairCounts(Mapping):
    """How often each pair was compared, read per entry when first asked about it: `choose_pair` asks only about
    the pairs of the entry it chose first, so a pair shown costs a query or two, not every comparison of the
    round (the indexes on left_id and right_id serve it)."""

    def __init__(self, round_: Round) -> None:
        self.round, self.loaded, self.counts = round_, set(), Counter()

    def _load(self, entry_id: int) -> None:
        rows = db.session.execute(_statements().pair_counts, {"round_id": self.round.id, "entry_id": entry_id}).all()
        for left, right, n in rows:
            if not {left, right} & self.loaded:  # a pair with an entry loaded before is counted already
                self.counts[frozenset((left, right))] += n
        self.loaded.add(entry_id)

    def __getitem__(self, pair: frozenset) -> int:
        if not pair & self.loaded:
            for entry_id in pair:
                self._load(entry_id)
        return self.counts[pair]

    def __iter__(self):
        return iter(self.counts)

    def __len__(self) -> int:
        return len(self.counts)


def _pairs_answered(user: User, round_: Round) -> set[frozenset]:
    """Every pair this citizen answered in the round, voided answers included: none is asked again."""
    return {frozenset(pair) for pair in db.session.execute(_statements().answered,
                                                           {"round_id": round_.id, "user_id": user.id}).all()}


def _outstanding_pair(user: User, round_: Round) -> ShownPair | None:
    return db.session.scalar(_statements().outstanding, {"round_id": round_.id, "user_id": user.id})


def _still_a_question(left: int, right: int, entries, own: set[int], answered: set[frozenset]) -> bool:
    return left in entries and right in entries and not {left, right} & own and \
        frozenset((left, right)) not in answered


def _pair_token(shown: ShownPair) -> str:
    return make_token("pair", {"round": shown.round_id, "user": shown.user_id, "nonce": shown.nonce})


def answer_pair(user: User, round_: Round, token: str, choice: str, address: str = "") -> PairAnswer:
    """Store the answer to the pair `next_pair` showed. Only the outstanding pair's answer counts, once: an
    answer sent twice, for a pair already answered, or for a pair no longer shown is refused and recorded."""
    check_eligible(user, round_)
    try:
        data = read_token("pair", token, PAIR_MAX_AGE)
    except (TokenExpired, TokenInvalid):
        raise ServiceError(_("This pair is no longer valid. Here is a new one.")) from None
    if data.get("round") != round_.id or data.get("user") != user.id:
        raise ServiceError(_("This pair is no longer valid. Here is a new one."))
    shown = db.session.scalar(_statements().shown, {"round_id": round_.id, "user_id": user.id,
                                                    "nonce": data.get("nonce")})
    if shown is None:  # a token from before pairs were stored
        raise ServiceError(_("This pair is no longer valid. Here is a new one."))
    left, right = shown.left_id, shown.right_id
    winner = {"left": left, "right": right, "none": None}.get(choice, "invalid")
    if winner == "invalid":
        raise ServiceError(_("Choose one of the two, or say you cannot decide."))
    if shown.dropped_at is None and shown.answered_at is None and not (
            takes_part(round_, left) and takes_part(round_, right)):
        shown.dropped_at = utcnow()  # an entry left the round while the pair was on screen
    if shown.dropped_at is not None:
        return _refuse(shown, PairAnswer.STALE)
    if shown.answered_at is not None:
        return _refuse(shown, PairAnswer.REPEATED)
    # The unique index on (round, citizen, pair) decides between answers sent at the same moment.
    if not insert_ignoring_conflicts(Comparison, {
            "round_id": round_.id, "user_id": user.id, "nonce": shown.nonce, "left_id": left, "right_id": right,
            "winner_id": winner, "created_at": utcnow(), "address": address[:64], "voided_reason": ""}):
        return _refuse(shown, PairAnswer.REPEATED)
    db.session.execute(update(ShownPair).where(ShownPair.id == shown.id, ShownPair.answered_at.is_(None))
                       .values(answered_at=utcnow()))
    following.follow_automatically(user, round_.call_id)
    return PairAnswer.COUNTED


def _refuse(shown: ShownPair, outcome: PairAnswer) -> PairAnswer:
    db.session.execute(update(ShownPair).where(ShownPair.id == shown.id)
                       .values(refusals=ShownPair.refusals + 1))
    return outcome


def comparisons_made(user: User, round_: Round) -> int:
    if not user.is_authenticated:
        return 0
    return db.session.scalar(select(func.count()).select_from(Comparison).where(
        Comparison.round_id == round_.id, Comparison.user_id == user.id))


def pairwise_scores(round_: Round) -> dict[int, float]:
    """Each entry's chance of beating a randomly chosen other entry, from a Bradley-Terry fit of every counted
    comparison, made now (the results are made from this; the round's pages read the stored standing instead:
    contest/services/public/standings.py)."""
    ids = list(db.session.scalars(entries_in_round(round_.id).order_by(Entry.id)))
    outcomes = [pairwise.Outcome(left, right, winner) for left, right, winner in db.session.execute(
        select(Comparison.left_id, Comparison.right_id, Comparison.winner_id).where(*_counted(round_.id))).all()]
    return pairwise.win_chances(pairwise.fit_bradley_terry(ids, outcomes))
