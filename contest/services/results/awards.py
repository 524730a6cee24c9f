"""Awards: the prizes as the computed order gives them, or as the organisers give them with a published
reason."""
from __future__ import annotations

from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from contest.extensions import db
from contest.i18n import english
from contest.models import (
    Award,
    Call,
    CallEvent,
    User,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError
from contest.services.audit import record
from contest.services.results import stored
from contest.services.results.ranking import current as current_snapshot
from contest.services.results.ranking import rounds_over


def default_awards(call: Call) -> dict[int, int]:
    """The prizes as the computed order of the stored snapshot gives them: first prizes to the first entries, and
    so on (only as many finalists are read as there are prizes)."""
    finalists = stored.finalist_ids(call, sum(prize.count for prize in call.prizes))
    awards, position = {}, 0
    for prize in call.prizes:
        for _i in range(prize.count):
            if position < len(finalists):
                awards[finalists[position]] = prize.id
                position += 1
    return awards


def awards_of(call: Call) -> dict[int, Award]:
    return {a.entry_id: a for a in db.session.scalars(select(Award).where(Award.call_id == call.id)
                                                      .options(selectinload(Award.prize)))}


def set_awards(actor: User, call: Call, chosen: dict[int, int], statement: str, statement_en: str = "") -> None:
    """Give the prizes (entry id -> prize id). Departing from the computed order needs a written statement,
    published with the results; after publication every change needs one and shows on the timeline."""
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    if call.results_final_at is not None:
        raise ServiceError(_("The results are final: the awards can no longer change."))
    if not rounds_over(call):
        raise ServiceError(_("Prizes can be given once every round is over."))
    prizes = {p.id: p for p in call.prizes}
    counts = defaultdict(int)
    for prize_id in chosen.values():
        if prize_id not in prizes:
            raise ServiceError(_("Choose one of the call's prizes."))
        counts[prize_id] += 1
    for prize_id, n in counts.items():
        if n > prizes[prize_id].count:
            raise ServiceError(_("“%(prize)s” can go to %(count)d entries at most.", prize=prizes[prize_id].name,
                                 count=prizes[prize_id].count))
    current_snapshot(call)  # the ranking the prizes follow, stored
    if not set(chosen) <= set(stored.positions(call, chosen)):
        raise ServiceError(_("Prizes can only go to entries in the ranking."))
    statement = statement.strip()
    departs = chosen != default_awards(call)
    current = awards_of(call)
    changed = {e: a.prize_id for e, a in current.items()} != chosen
    if departs and not statement:
        raise ServiceError(_("These awards depart from the computed order: write the reason, which is published "
                             "with the results."))
    if call.results_published_at is not None and changed and not statement:
        raise ServiceError(_("The results are published: say why the awards change (the timeline shows it)."))
    for entry_id, award in current.items():
        if entry_id not in chosen:
            db.session.delete(award)
    for entry_id, prize_id in chosen.items():
        if entry_id in current:
            current[entry_id].prize_id, current[entry_id].awarded_by_id = prize_id, actor.id
            current[entry_id].awarded_at = utcnow()
        else:
            db.session.add(Award(call_id=call.id, entry_id=entry_id, prize_id=prize_id, awarded_by_id=actor.id))
    call.award_statement = statement[:5000] if departs or call.results_published_at is not None else ""
    call.award_statement_en = (english(statement_en) or "")[:10000] or None if call.award_statement else None
    if call.results_published_at is not None and changed:
        db.session.add(CallEvent(call_id=call.id, kind="awards_changed", actor_id=actor.id,
                                 detail={"reason": statement[:1000]}))
    db.session.flush()
    record(actor, "results.awards", "call", call.id, awards={str(e): p for e, p in sorted(chosen.items())},
           departs=departs, statement=statement)
