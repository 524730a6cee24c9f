"""The final formula and the final ranking: computed from the rounds into one snapshot (contest.snapshot),
the published one read back, and the call's figures."""
from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from contest import formula
from contest.extensions import db
from contest.models import (
    Call,
    CallEvent,
    CallState,
    CombineOn,
    Entry,
    EntryStatus,
    JobKind,
    JobState,
    PublicMode,
    Round,
    RoundEntry,
    RoundKind,
    RoundState,
    User,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError
from contest.services import public as public_service
from contest.services import rounds as round_service
from contest.services.audit import record
from contest.services.results import jobs, stored
from contest.snapshot import CriterionShown, Figures, FormulaUsed, Place, RoundSummary, Row, Snapshot, Summary

log = logging.getLogger(__name__)

BOOTSTRAP_SAMPLES = 1000


@dataclass(frozen=True)
class Formula:
    expert_weight: int
    public_weight: int
    combine_on: CombineOn

    @classmethod
    def of(cls, call: Call) -> Formula:
        return cls(call.expert_weight, call.public_weight, call.combine_on)

    def describe(self) -> str:
        return _("Jury %(expert)d%%, public %(public)d%%, combined %(on)s",
                 expert=self.expert_weight, public=self.public_weight, on=self.combine_on.label)


def check_formula(value: Formula) -> None:
    if not (0 <= value.expert_weight <= 100 and 0 <= value.public_weight <= 100):
        raise ServiceError(_("The weights of the final formula must be between 0 and 100."))
    if value.expert_weight + value.public_weight != 100:
        raise ServiceError(_("The weights of the final formula must add up to 100 (they add up to %(n)d).",
                             n=value.expert_weight + value.public_weight))


def set_formula(actor: User, call: Call, value: Formula, reason: str = "") -> bool:
    """Declare the formula. Before the call opens it changes freely; once open, only with a reason, which the
    timeline shows; once the results are published, not at all. Returns whether it changed."""
    check_formula(value)
    before = Formula.of(call)
    if value == before:
        return False
    if call.results_published_at is not None:
        raise ServiceError(_("The results are published: the final formula can no longer change."))
    if call.state in (CallState.OPEN, CallState.CLOSED):
        if not reason.strip():
            raise ServiceError(_("The call is open: say why the final formula changes (the timeline shows it)."))
        db.session.add(CallEvent(call_id=call.id, kind="formula_changed", actor_id=actor.id, detail={
            "from": before.describe(), "to": value.describe(), "reason": reason.strip()[:1000]}))
    call.expert_weight, call.public_weight, call.combine_on = value.expert_weight, value.public_weight, \
        value.combine_on
    record(actor, "call.formula", "call", call.id, before=[before.expert_weight, before.public_weight,
                                                          before.combine_on.value],
           after=[value.expert_weight, value.public_weight, value.combine_on.value], reason=reason.strip())
    return True


def _last(rounds: list[Round], kind: RoundKind) -> Round | None:
    return next((r for r in reversed(rounds) if r.kind is kind), None)


def rounds_over(call: Call) -> bool:
    return bool(call.rounds) and all(r.state in (RoundState.CLOSED, RoundState.DECIDED) for r in call.rounds)


def _taking_part(round_: Round) -> list[int]:
    """The entries the round took in (its rows) and those that take part in it by the rule."""
    rows = set(db.session.scalars(select(RoundEntry.entry_id).where(RoundEntry.round_id == round_.id)))
    return sorted(rows | set(db.session.scalars(round_service.entries_in_round(round_.id))))


def _public_scores(round_: Round, entry_ids: list[int]) -> dict[int, float]:
    if round_.public_mode is PublicMode.PAIRWISE:
        return public_service.pairwise_scores(round_)
    counts = public_service.vote_counts(round_)
    return {e: float(counts.get(e, 0)) for e in entry_ids}


def _criterion_means(round_: Round) -> dict[int, dict[str, float]]:
    """Per entry, the mean mark of each criterion over its submitted sheets (raw, as the jurors gave them)."""
    sums: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for sheet in round_service.sheets(round_):
        for criterion_id, mark in sheet.marks.items():
            sums[sheet.entry_id][str(criterion_id)].append(mark)
    return {e: {c: math.fsum(v) / len(v) for c, v in marks.items()} for e, marks in sums.items()}


def _round_summary(round_: Round, entry_ids: list[int]) -> tuple[RoundSummary, dict[int, Place]]:
    """What the results page says about one round, and each entry's place in it."""
    advanced = set(db.session.scalars(select(RoundEntry.entry_id).where(
        RoundEntry.round_id == round_.id, RoundEntry.advanced.is_(True))))
    common = {"id": round_.id, "title": round_.title, "title_en": round_.title_en, "kind": round_.kind.value,
              "entries": len(entry_ids),
              "decided": round_.decided_at is not None, "advanced": len(advanced)}
    places: dict[int, Place] = {}
    if round_.kind is RoundKind.EXPERT:
        cut = len(advanced) if advanced else None
        tally = round_service.ranking(round_, cut=cut, samples=BOOTSTRAP_SAMPLES)
        means = _criterion_means(round_)
        for r in tally.results:
            places[r.entry_id] = Place(score=r.score, rank=r.rank, low=r.rank_low, high=r.rank_high,
                                       jurors=r.jurors, criteria=means.get(r.entry_id, {}),
                                       advanced=r.entry_id in advanced)
        cutoff = None
        if advanced:
            scores = [places[e].score for e in advanced if e in places]
            cutoff = min(scores) if scores else None
        summary = RoundSummary(
            **common,
            criteria=[CriterionShown(c.id, c.name, c.weight, c.description, c.name_en, c.description_en)
                      for c in round_.criteria],
            scale=[round_.scale_low, round_.scale_high, round_.scale_step], marks=round_.scale_marks,
            normalise=round_.normalise, trim=round_.trim,
            jurors=len({m.id for m in round_.jurors if m.user_id is not None}),
            sheets=sum(r.jurors for r in tally.results),
            alpha=tally.agreement.alpha, kendall_w=tally.agreement.kendall_w,
            distributions={str(k): v for k, v in round_service.distributions(round_).items()},
            cutoff=cutoff,
            places={str(e): p for e, p in places.items()},  # for each entrant's feedback
        )
    else:
        scores = _public_scores(round_, entry_ids)
        ranks = formula.competition_ranks(formula.fractional_ranks(entry_ids, scores))
        model, _target = public_service._ballots(round_)
        for entry_id in entry_ids:
            places[entry_id] = Place(score=scores.get(entry_id), rank=ranks[entry_id],
                                     advanced=entry_id in advanced)
        summary = RoundSummary(
            **common,
            mode=round_.public_mode.value, ballots=public_service.ballot_total(round_),
            voters=db.session.scalar(select(func.count(func.distinct(model.user_id))).where(
                model.round_id == round_.id, model.voided_at.is_(None))),
            voided=[(reason, count) for reason, count in public_service.voided_summary(round_)],
            places={str(e): p for e, p in places.items()},  # for each entrant's feedback
        )
    return summary, places


def compute(call: Call, progress: Callable[[str, int, int], None] | None = None) -> Snapshot:
    """The final ranking and everything the results page shows, as one snapshot. `progress` (the worker's) is told
    each step as it begins: its name, the steps done and their number (the last, storing, is the caller's)."""
    rounds = list(call.rounds)
    steps = len(rounds) + 3

    def step(name: str, done: int) -> None:
        if progress is not None:
            progress(name, done, steps)

    value = Formula.of(call)
    expert, public = _last(rounds, RoundKind.EXPERT), _last(rounds, RoundKind.PUBLIC)
    taking_part = {r.id: _taking_part(r) for r in rounds}
    finalists = taking_part[rounds[-1].id] if rounds else []
    summaries, places = [], {}
    for n, round_ in enumerate(rounds):
        step(f"round:{n + 1}:{len(rounds)}", n)
        summary, places[round_.id] = _round_summary(round_, taking_part[round_.id])
        summaries.append(summary)
    step("combine", len(rounds))

    parts = []
    if expert is not None:
        parts.append(formula.Part("expert", value.expert_weight,
                                  {e: p.score for e, p in places[expert.id].items()}))
    if public is not None:
        parts.append(formula.Part("public", value.public_weight,
                                  {e: p.score for e, p in places[public.id].items() if p.score is not None}))
    combined = formula.combine(finalists, parts, value.combine_on.value)
    rows = []
    for item in combined:
        in_parts = {}
        for part in parts:
            round_ = expert if part.name == "expert" else public
            in_parts[part.name] = replace(places[round_.id].get(item.entry_id, Place()),
                                          percentile=item.parts[part.name].percentile)
        rows.append(Row(entry=item.entry_id, rank=item.rank, value=item.value, finalist=True, **in_parts))
    rows = _mark_too_close(rows)
    # Entries that stopped in an earlier round follow, the later rounds first, each in its own order.
    placed = set(finalists)
    for round_ in reversed(rounds[:-1]):
        out = sorted((e for e in taking_part[round_.id] if e not in placed),
                     key=lambda e: (places[round_.id].get(e, Place()).rank or 10**9, e))
        for entry_id in out:
            place = places[round_.id].get(entry_id, Place())
            rows.append(Row(entry=entry_id, out_in=round_.title,
                            **{"expert" if round_.kind is RoundKind.EXPERT else "public": place}))
        placed.update(out)
    step("figures", len(rounds) + 1)
    return Snapshot(
        computed_at=utcnow(),
        formula=FormulaUsed(value.expert_weight, value.public_weight, value.combine_on.value,
                            expert_round=expert.title if expert else None,
                            public_round=public.title if public else None,
                            public_mode=public.public_mode.value if public else None,
                            counted=[p.name for p in parts if p.weight > 0]),
        rows=rows, rounds=summaries, figures=figures(call),
    )


def _mark_too_close(rows: list[Row]) -> list[Row]:
    """Neighbours whose jury rank intervals overlap cannot be told apart by the jury's scores."""
    unsure = [False] * len(rows)
    close_to: list[list[int]] = [[] for _row in rows]
    for i, (above, below) in enumerate(zip(rows, rows[1:], strict=False)):
        a, b = above.expert or Place(), below.expert or Place()
        if None not in (a.low, a.high, b.low, b.high) and a.low <= b.high and b.low <= a.high \
                or above.rank == below.rank:
            unsure[i] = unsure[i + 1] = True
            close_to[i].append(below.entry)
    return [replace(row, unsure=row.unsure or unsure[i], close_to=row.close_to + close_to[i])
            for i, row in enumerate(rows)]


def figures(call: Call) -> Figures:
    """The call's figures: entries received and approved, approved ones by participant group and by channel."""
    by_status = dict(db.session.execute(select(Entry.status, func.count()).where(Entry.call_id == call.id)
                                        .group_by(Entry.status)).all())
    approved = (Entry.call_id == call.id, Entry.status == EntryStatus.APPROVED)
    by_group = db.session.execute(select(User.group, func.count()).select_from(Entry)
                                  .outerjoin(User, User.id == Entry.author_id).where(*approved)
                                  .group_by(User.group)).all()
    by_channel = db.session.execute(select(Entry.channel, func.count()).where(*approved)
                                    .group_by(Entry.channel)).all()
    return Figures(
        received=sum(n for status, n in by_status.items() if status is not EntryStatus.WITHDRAWN),
        approved=by_status.get(EntryStatus.APPROVED, 0),
        by_group=sorted([(g.value if g else "", n) for g, n in by_group], key=lambda x: -x[1]),
        by_channel=sorted([(c.value, n) for c, n in by_channel], key=lambda x: -x[1]),
    )


def snapshot(call: Call) -> Summary | None:
    """What the public sees: the published snapshot's summary (None before publication); its rows are read by
    the page from contest.services.results.stored."""
    if call.results_published_at is None:
        return None
    return stored.summary(call)


def current(call: Call) -> Summary | None:
    """The snapshot the organisers work with: the published one, else the stored preview, else (every round
    being over) computed now and stored, or for a large call (jobs.in_worker) asked of the worker (which the clock
    did already when its last round ended, unless the preview was dropped since); None while a
    round is still to come or under way, or while the worker computes it (`computation` says how far it got)."""
    value = stored.summary(call)
    if value is not None or call.results_published_at is not None or not rounds_over(call):
        return value
    if jobs.in_worker(call):
        jobs.queue(call, JobKind.SNAPSHOT)
        return None
    return stored.store(call, compute(call))


def computation(call: Call) -> jobs.Progress | None:
    """The worker's computation of the call's snapshot as the organisers see it (queued, how far, or failed), or
    None when there is none under way."""
    return jobs.shown(call, JobKind.SNAPSHOT)


def compute_queued(now: datetime | None = None) -> int:
    """The worker's clock: compute and store each snapshot asked for (by the clock when the call's last round
    ended, by an organiser closing it early, or by a page), each call claimed by one worker, its
    progress committed as it goes; a snapshot whose inputs changed while it was computed is thrown away and
    computed again at the next pass, one that fails is shown as failed. How many were stored."""
    done = 0
    for job in jobs.claimed(JobKind.SNAPSHOT, now):
        job_id, generation, call_id = job.id, job.generation, job.call_id
        steps = [1]

        def progress(stage: str, step: int, total: int, job_id: int = job_id, steps: list = steps) -> None:
            steps[0] = total
            jobs.progress(job_id, stage, step, total)

        try:
            progress("start", 0, 1)  # commits the claim: the page says the worker took it
            call = db.session.get(Call, call_id)
            if call.results_published_at is not None or not rounds_over(call):
                jobs.finish(job_id)  # nothing to compute: a published snapshot stays as published
                continue
            snap = compute(call, progress)
            # Storing reports no progress of its own, batch by batch: it is one transaction (all the rows or
            # none), which holds the job's row locked from finish() on; a batch's progress could only be written
            # by committing half the rows, or from a second transaction, which would wait on that very lock on
            # PostgreSQL (and on the one writer's lock on SQLite) until this one ends.
            progress("store", steps[0] - 1, steps[0])
            if not jobs.finish(job_id, generation):  # first: it waits for a change being committed (its lock)
                db.session.rollback()
                jobs.again_later(job_id)
                continue
            stored.store(db.session.get(Call, call_id), snap)  # committed with the job marked done
            done += 1
        except Exception as error:  # noqa: BLE001 - shown to the organisers as failed, with a retry
            log.exception("the results of call %s could not be computed", call_id)
            jobs.failed(job_id, error)
    return done


def retry(actor: User, call: Call) -> None:
    """The organisers ask the worker again for what failed: the snapshot, or the rest of the publication's mails."""
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    for kind in JobKind:
        job = jobs.job_of(call, kind)
        if job is not None and job.state is JobState.FAILED:
            jobs.queue(call, kind, again=True)
            record(actor, "results.retry", "call", call.id, kind=kind.value)


def remap_snapshot(snap: dict, entries: dict[int, int], rounds: dict[int, int],
                   criteria: dict[int, int]) -> dict:
    """A stored summary with its ids translated (old -> new), for a call restored from an archive into a site
    where its rows got other ids (see Snapshot.remapped; each stored row is translated by remap_row_record). A
    whole snapshot of an older archive is translated whole. A missing id raises KeyError; another version
    ValueError."""
    if snap.get("part") == "summary":
        return Summary.from_json(snap).remapped(rounds, criteria).to_json()
    return Snapshot.from_json(snap).remapped(entries, rounds, criteria).to_json()
