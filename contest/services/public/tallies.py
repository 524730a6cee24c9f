"""What the organisers' pictures of a public round read, each in one grouped query: ballots per hour (those of new
accounts apart) and, in a pairwise round, how often each entry was preferred to each other."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import case, func, select

from contest.extensions import db
from contest.models import Comparison, Entry, PublicMode, Round, RoundKind, RoundState, User
from contest.services.public.integrity import _ballots, is_new_account
from contest.services.rounds import takes_part
from contest.services.visibility import public_entries


class HourCount(NamedTuple):
    hour: datetime  # the hour's start, UTC
    ballots: int
    new: int  # of them, cast by new accounts (integrity.is_new_account)


def _hour(column, dialect: str):
    """A stored UTC moment's hour, as "YYYY-MM-DD HH", in SQL."""
    if dialect == "postgresql":
        return func.to_char(func.date_trunc("hour", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def ballots_per_hour(round_: Round) -> list[HourCount]:
    """The round's counted ballots (votes, or answered comparisons) per hour with any, in time order."""
    model, _target = _ballots(round_)
    dialect = db.session.get_bind().dialect.name
    hour = _hour(model.created_at, dialect).label("hour")
    new = func.sum(case((is_new_account(model.created_at, User.created_at), 1), else_=0))
    rows = db.session.execute(
        select(hour, func.count(), new).join(User, User.id == model.user_id)
        .where(model.round_id == round_.id, model.voided_at.is_(None)).group_by(hour).order_by(hour)).all()
    return [HourCount(datetime.strptime(at, "%Y-%m-%d %H").replace(tzinfo=UTC), count, int(fresh or 0))
            for at, count, fresh in rows]


def wins(round_: Round, entry_ids: list[int] | None = None) -> dict[tuple[int, int], int]:
    """(winner, loser) -> how often the winner was preferred, over the round's counted comparisons; only between
    the entries given, when given. Empty for a votes round."""
    if round_.public_mode is not PublicMode.PAIRWISE:
        return {}
    loser = case((Comparison.winner_id == Comparison.left_id, Comparison.right_id),
                 else_=Comparison.left_id).label("loser")
    statement = (select(Comparison.winner_id, loser, func.count())
                 .where(Comparison.round_id == round_.id, Comparison.voided_at.is_(None),
                        Comparison.winner_id.is_not(None)))
    if entry_ids is not None:
        statement = statement.where(Comparison.left_id.in_(entry_ids), Comparison.right_id.in_(entry_ids))
    return {(winner, lost): n for winner, lost, n in
            db.session.execute(statement.group_by(Comparison.winner_id, loser)).all()}


class Opponent(NamedTuple):
    entry: int
    title: str
    wins: int  # times the entry was preferred to this opponent
    losses: int


def wins_against(round_: Round, entry: Entry) -> list[Opponent]:
    """The entries the public sees that one entry met in the round's counted comparisons, most met first: its
    "wins against"."""
    if round_.public_mode is not PublicMode.PAIRWISE:
        return []
    other = case((Comparison.left_id == entry.id, Comparison.right_id), else_=Comparison.left_id).label("other")
    inner = (select(other, Comparison.winner_id).where(
        Comparison.round_id == round_.id, Comparison.voided_at.is_(None), Comparison.winner_id.is_not(None),
        (Comparison.left_id == entry.id) | (Comparison.right_id == entry.id)).subquery())
    won = func.sum(case((inner.c.winner_id == entry.id, 1), else_=0))
    lost = func.sum(case((inner.c.winner_id == inner.c.other, 1), else_=0))
    rows = db.session.execute(
        select(inner.c.other, Entry.title, won, lost).join(Entry, Entry.id == inner.c.other)
        .where(*public_entries(merged=True)).group_by(inner.c.other, Entry.title)
        .order_by((won + lost).desc(), inner.c.other)).all()
    return [Opponent(other_id, title, int(w), int(lo)) for other_id, title, w, lo in rows]


def wins_after_closing(entry: Entry) -> list[tuple[Round, list[Opponent]]]:
    """An entry's "wins against" in each pairwise round of its call that it took part in, once that round has
    closed (never while citizens still compare: it would tell them how to tip it)."""
    found = []
    for round_ in entry.call.rounds:
        if round_.kind is RoundKind.PUBLIC and round_.public_mode is PublicMode.PAIRWISE \
                and round_.state in (RoundState.CLOSED, RoundState.DECIDED) and takes_part(round_, entry.id):
            opponents = wins_against(round_, entry)
            if opponents:
                found.append((round_, opponents))
    return found
