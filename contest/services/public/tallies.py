"""What the organisers' pictures of a public round read, each in one grouped query over the round's ballots:
ballots per hour (those of new accounts apart: the one rule of a new account is here), the addresses many
accounts voted from, and, in a pairwise round, how often each entry was preferred to each other. The round's page
reads the first two as stored with its standing (standings.Tallies)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import BigInteger, Integer, case, func, select

from contest.extensions import db
from contest.models import Comparison, Entry, PublicMode, Round, RoundKind, RoundState, User
from contest.services.public.settings import _ballots
from contest.services.rounds import takes_part
from contest.services.visibility import public_entries

NEW_ACCOUNT_DAYS = 7  # a ballot cast this soon after its account was made is a new account's


def _epoch(column):
    """Whole seconds since 1970 of a stored UTC moment, in SQL."""
    if db.engine.dialect.name == "postgresql":
        return func.cast(func.floor(func.extract("epoch", column)), BigInteger)
    return func.cast(func.strftime("%s", column), Integer)


def is_new_account(ballot_at, account_at, new_days: int = NEW_ACCOUNT_DAYS):
    """In SQL: the ballot was cast less than `new_days` after its account was made. The one rule of a "new
    account" for the bursts and the picture of ballots per hour."""
    return _epoch(ballot_at) - _epoch(account_at) < new_days * 86400


def new_account_ballots(model, round_: Round, new_days: int = NEW_ACCOUNT_DAYS) -> tuple:
    """In SQL, joined to the ballot's User: the ballots of new accounts (is_new_account). Only accounts made from
    `new_days` before the round opened can be new when they vote, so the accounts read are the recent ones (by
    their index), never every voter of a round of 500,000 ballots."""
    return (User.created_at >= round_.opens_at - timedelta(days=new_days),
            is_new_account(model.created_at, User.created_at, new_days))


class HourCount(NamedTuple):
    hour: datetime  # the hour's start, UTC
    ballots: int
    new: int  # of them, cast by new accounts (is_new_account)


def _hour(column, dialect: str):
    """A stored UTC moment's hour, in SQL: its start on PostgreSQL (date_trunc, much cheaper a row than
    formatting it), "YYYY-MM-DD HH" on SQLite."""
    if dialect == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H", column)


def _hour_start(value) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)


def ballots_per_hour(round_: Round) -> list[HourCount]:
    """The round's counted ballots (votes, or answered comparisons) per hour with any, in time order. The ballots
    are counted alone (no account read), those of new accounts apart among the recent accounts only
    (new_account_ballots): two grouped queries, neither joining every ballot to its account."""
    model, _target = _ballots(round_)
    hour = _hour(model.created_at, db.session.get_bind().dialect.name).label("hour")
    counted = (model.round_id == round_.id, model.voided_at.is_(None))
    new = dict(db.session.execute(
        select(hour, func.count()).join(User, User.id == model.user_id)
        .where(*counted, *new_account_ballots(model, round_)).group_by(hour)).all())
    rows = db.session.execute(select(hour, func.count()).where(*counted).group_by(hour).order_by(hour)).all()
    return [HourCount(_hour_start(at), count, new.get(at, 0)) for at, count in rows]


def crowded_addresses(round_: Round, threshold: int = 5) -> list[tuple[str, int, int]]:
    """Addresses many accounts voted from: (address, accounts, ballots). A school may be innocent: look first."""
    model, _target = _ballots(round_)
    rows = db.session.execute(
        select(model.address, func.count(func.distinct(model.user_id)), func.count())
        .where(model.round_id == round_.id, model.voided_at.is_(None), model.address != "")
        .group_by(model.address).having(func.count(func.distinct(model.user_id)) >= threshold)
        .order_by(func.count(func.distinct(model.user_id)).desc())).all()
    return [tuple(r) for r in rows]


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
