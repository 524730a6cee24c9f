"""The integrity of a public round: bursts, troubled pairs, and voiding ballots with a reason (the crowded
addresses are a tally: tallies.py)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select, update

from contest.extensions import db
from contest.models import (
    PublicMode,
    Round,
    RoundState,
    ShownPair,
    User,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError
from contest.services.audit import record
from contest.services.public.settings import _ballots
from contest.services.public.standings import forget_standing
from contest.services.public.tallies import NEW_ACCOUNT_DAYS, _epoch, new_account_ballots
from contest.services.results import stored as results_stored


@dataclass
class Burst:
    entry_id: int
    start: datetime
    count: int
    ids: list[int]


BURSTS_SHOWN = 20  # bursts the integrity view lists, the largest first


def bursts(round_: Round, *, window: timedelta = timedelta(hours=1), new_days: int = NEW_ACCOUNT_DAYS,
           threshold: int = 5, limit: int = BURSTS_SHOWN) -> list[Burst]:
    """Many new accounts backing the same entry within a short time: ballots of accounts younger than `new_days`
    counted per entry and time bucket of `window`, in SQL (a round of 500,000 votes is never read into Python),
    the `limit` largest buckets of `threshold` ballots or more, among the recent accounts only
    (new_account_ballots)."""
    model, target = _ballots(round_)
    step = int(window.total_seconds())
    bucket = (_epoch(model.created_at) // step).label("bucket")
    counted = (model.round_id == round_.id, model.voided_at.is_(None), target.is_not(None),
               *new_account_ballots(model, round_, new_days))
    size = func.count()
    found = db.session.execute(
        select(target, bucket, size, func.min(model.created_at)).join(User, User.id == model.user_id)
        .where(*counted).group_by(target, bucket).having(size >= threshold)
        .order_by(size.desc(), target, bucket).limit(limit)).all()
    if not found:
        return []
    ids: dict[tuple, list[int]] = defaultdict(list)
    for ballot_id, entry_id, at in db.session.execute(
            select(model.id, target, bucket).join(User, User.id == model.user_id)
            .where(*counted, target.in_({e for e, _b, _n, _at in found})).order_by(model.created_at, model.id)):
        ids[(entry_id, int(at))].append(ballot_id)
    return [Burst(entry_id, start, n, ids[(entry_id, int(b))]) for entry_id, b, n, start in found]


@dataclass(frozen=True)
class PairTrouble:
    """A citizen of a pairwise round whose answers were refused (sent again for a pair already answered, or
    after the pair was dropped), or who left pairs unanswered."""

    user_id: int
    name: str
    answered: int
    refused: int
    abandoned: int  # shown, never answered: dropped, or left on screen when the round closed


def pair_trouble(round_: Round, now: datetime | None = None) -> list[PairTrouble]:
    """Citizens with refused or abandoned pairs, most refusals first. While the round is open, the pair on a
    citizen's screen is not abandoned yet: only once it was dropped or the round closed. None in a votes round."""
    if round_.public_mode is not PublicMode.PAIRWISE:
        return []
    unanswered = ShownPair.answered_at.is_(None)
    if round_.state_at(now or utcnow()) is RoundState.OPEN:
        unanswered = unanswered & ShownPair.dropped_at.is_not(None)
    answered = func.count(ShownPair.answered_at)
    refused = func.coalesce(func.sum(ShownPair.refusals), 0)
    abandoned = func.coalesce(func.sum(case((unanswered, 1), else_=0)), 0)
    rows = db.session.execute(
        select(ShownPair.user_id, User.display_name, answered, refused, abandoned)
        .join(User, User.id == ShownPair.user_id).where(ShownPair.round_id == round_.id)
        .group_by(ShownPair.user_id, User.display_name).having((refused > 0) | (abandoned > 0))
        .order_by(refused.desc(), abandoned.desc(), ShownPair.user_id)).all()
    return [PairTrouble(*row) for row in rows]


def void(actor: User, round_: Round, ids: list[int], reason: str) -> int:
    """Void ballots with a written reason: they stop counting, and the results say how many and why."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    if not reason.strip():
        raise ServiceError(_("Write the reason for voiding: it is published with the results."))
    model, _target = _ballots(round_)
    changed = db.session.execute(
        update(model).where(model.round_id == round_.id, model.id.in_(ids), model.voided_at.is_(None))
        .values(voided_at=utcnow(), voided_by_id=actor.id, voided_reason=reason.strip()[:500])).rowcount
    if changed:
        results_stored.discard([round_.call_id])  # a bulk update: the preview's hook does not see it
        forget_standing(round_)
    record(actor, "round.void", "round", round_.id, ids=sorted(ids), reason=reason.strip(), count=changed)
    return changed


def voided_summary(round_: Round) -> list[tuple[str, int]]:
    """(reason, how many) of the voided ballots: shown with the results, never hidden."""
    model, _target = _ballots(round_)
    return [tuple(r) for r in db.session.execute(
        select(model.voided_reason, func.count()).where(model.round_id == round_.id, model.voided_at.is_not(None))
        .group_by(model.voided_reason).order_by(func.count().desc())).all()]


def ballot_total(round_: Round) -> int:
    model, _target = _ballots(round_)
    return db.session.scalar(select(func.count()).select_from(model).where(
        model.round_id == round_.id, model.voided_at.is_(None)))
