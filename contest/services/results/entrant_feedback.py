"""What an entrant learns about their own entry once the results are published."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from contest.extensions import db
from contest.models import (
    Assignment,
    Award,
    Entry,
    Score,
    User,
)
from contest.services import ServiceError
from contest.services.results import stored
from contest.services.results.ranking import snapshot
from contest.snapshot import Place, RoundSummary, Row


@dataclass
class RoundFeedback:
    summary: RoundSummary  # the round as the results page describes it
    place: Place | None  # the entry's place in it (score, rank, advanced, ...)
    notes: list[str]  # the jurors' notes to the entrant, without names, in an order that tells nothing
    criteria: list[tuple[str, int, float | None]]  # (criterion, weight, the entry's mean mark)


@dataclass
class Feedback:
    entry: Entry
    published: bool
    rounds: list[RoundFeedback]
    row: Row | None  # the entry's row of the final ranking
    finalists: int
    award: Award | None


def feedback(user: User, entry: Entry) -> Feedback:
    """What an entrant learns about their own entry once the results are published: nobody else's, no names."""
    if not user.is_authenticated or entry.author_id != user.id:
        raise ServiceError(_("This is not your entry."))
    call = entry.call
    snap = snapshot(call)
    if snap is None:
        return Feedback(entry, False, [], None, 0, None)
    notes_by_round = defaultdict(list)
    for round_id, note in db.session.execute(
            select(Assignment.round_id, Score.note_to_entrant).join(Score, Score.assignment_id == Assignment.id)
            .where(Assignment.entry_id == entry.id, Score.submitted_at.is_not(None),
                   Score.note_to_entrant != "")).all():
        notes_by_round[round_id].append(note)
    rounds = []
    row, places = stored.row_of(call, entry.id) or (None, {})
    for summary in snap.rounds:
        place = places.get(str(summary.id))
        if place is None:
            continue
        means = place.criteria or {}
        criteria = [(c.name, c.weight, means.get(str(c.id))) for c in summary.criteria]
        notes = sorted(notes_by_round[summary.id], key=lambda n: hashlib.sha256(n.encode()).hexdigest())
        rounds.append(RoundFeedback(summary, place, notes, criteria))
    award = db.session.scalar(select(Award).where(Award.call_id == call.id, Award.entry_id == entry.id)
                              .options(selectinload(Award.prize)))
    return Feedback(entry, True, rounds, row, snap.finalists, award)
