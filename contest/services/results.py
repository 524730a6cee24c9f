"""Results of a call: the final formula, the final ranking, awards, publication into a notice period (公示期),
objections and their answers, making the results final, and each entrant's feedback.

The ranking is computed from the rounds (contest.formula does the arithmetic) into one JSON-able snapshot.
The organiser previews it live; publishing freezes it on the call, so the published page reads one row and
says exactly what was published, whatever happens to the underlying tables later.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from contest import formula
from contest.extensions import db
from contest.links import external_url
from contest.mail import send_mail
from contest.models import (
    Assignment,
    Award,
    Call,
    CallEvent,
    CallState,
    CombineOn,
    Entry,
    EntryStatus,
    MailKind,
    Objection,
    PublicMode,
    Round,
    RoundEntry,
    RoundKind,
    RoundState,
    Score,
    User,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call, organisers_of
from contest.services import ServiceError
from contest.services import public as public_service
from contest.services import rounds as round_service
from contest.services.audit import record
from contest.services.visibility import public_entries
from contest.tabular import csv_dicts_text

SNAPSHOT_VERSION = 1
NOTICE_DAYS = (1, 60)
BOOTSTRAP_SAMPLES = 1000


# The formula ----------------------------------------------------------------------------------

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


# The ranking ----------------------------------------------------------------------------------

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


def _round_summary(round_: Round, entry_ids: list[int]) -> tuple[dict, dict[int, dict]]:
    """What the results page says about one round, and each entry's place in it."""
    summary = {"id": round_.id, "title": round_.title, "kind": round_.kind.value, "entries": len(entry_ids),
               "decided": round_.decided_at is not None}
    advanced = set(db.session.scalars(select(RoundEntry.entry_id).where(
        RoundEntry.round_id == round_.id, RoundEntry.advanced.is_(True))))
    summary["advanced"] = len(advanced)
    places: dict[int, dict] = {}
    if round_.kind is RoundKind.EXPERT:
        cut = len(advanced) if advanced else None
        tally = round_service.ranking(round_, cut=cut, samples=BOOTSTRAP_SAMPLES)
        means = _criterion_means(round_)
        summary.update({
            "criteria": [{"id": c.id, "name": c.name, "weight": c.weight, "description": c.description}
                         for c in round_.criteria],
            "scale": [round_.scale_low, round_.scale_high, round_.scale_step], "marks": round_.scale_marks,
            "normalise": round_.normalise, "trim": round_.trim,
            "jurors": len({m.id for m in round_.jurors if m.user_id is not None}),
            "sheets": sum(r.jurors for r in tally.results),
            "alpha": tally.agreement.alpha, "kendall_w": tally.agreement.kendall_w,
            "distributions": {str(k): v for k, v in round_service.distributions(round_).items()},
        })
        for r in tally.results:
            places[r.entry_id] = {"score": r.score, "rank": r.rank, "low": r.rank_low, "high": r.rank_high,
                                  "jurors": r.jurors, "criteria": means.get(r.entry_id, {}),
                                  "advanced": r.entry_id in advanced}
        if advanced:
            scores = [places[e]["score"] for e in advanced if e in places]
            summary["cutoff"] = min(scores) if scores else None
    else:
        scores = _public_scores(round_, entry_ids)
        ranks = formula.fractional_ranks(entry_ids, scores)
        model, _target = public_service._ballots(round_)
        summary.update({
            "mode": round_.public_mode.value, "ballots": public_service.ballot_total(round_),
            "voters": db.session.scalar(select(func.count(func.distinct(model.user_id))).where(
                model.round_id == round_.id, model.voided_at.is_(None))),
            "voided": [[reason, count] for reason, count in public_service.voided_summary(round_)],
        })
        for entry_id in entry_ids:
            places[entry_id] = {"score": scores.get(entry_id), "rank": _competition_rank(ranks, entry_id),
                                "advanced": entry_id in advanced}
    summary["places"] = {str(e): p for e, p in places.items()}  # for each entrant's feedback
    return summary, places


def _competition_rank(fractional: dict[int, float], entry_id: int) -> int:
    """From fractional ranks back to "1, 2, 2, 4": one more than the entries placed strictly better."""
    mine = fractional[entry_id]
    return 1 + sum(1 for r in fractional.values() if r < mine - formula.EPSILON)


def compute(call: Call) -> dict:
    """The final ranking and everything the results page shows, as one JSON-able snapshot."""
    rounds = list(call.rounds)
    value = Formula.of(call)
    expert, public = _last(rounds, RoundKind.EXPERT), _last(rounds, RoundKind.PUBLIC)
    taking_part = {r.id: _taking_part(r) for r in rounds}
    finalists = taking_part[rounds[-1].id] if rounds else []
    summaries, places = [], {}
    for round_ in rounds:
        summary, places[round_.id] = _round_summary(round_, taking_part[round_.id])
        summaries.append(summary)

    parts = []
    if expert is not None:
        parts.append(formula.Part("expert", value.expert_weight,
                                  {e: p["score"] for e, p in places[expert.id].items()}))
    if public is not None:
        parts.append(formula.Part("public", value.public_weight,
                                  {e: p["score"] for e, p in places[public.id].items() if p["score"] is not None}))
    combined = formula.combine(finalists, parts, value.combine_on.value)
    rows = []
    for item in combined:
        row = {"entry": item.entry_id, "rank": item.rank, "value": item.value, "finalist": True,
               "out_in": None, "unsure": False}
        for part in parts:
            round_ = expert if part.name == "expert" else public
            place = dict(places[round_.id].get(item.entry_id, {}))
            place["percentile"] = item.parts[part.name].percentile
            row[part.name] = place
        rows.append(row)
    _mark_too_close(rows)
    # Entries that stopped in an earlier round follow, the later rounds first, each in its own order.
    placed = set(finalists)
    for round_ in reversed(rounds[:-1]):
        out = sorted((e for e in taking_part[round_.id] if e not in placed),
                     key=lambda e: (places[round_.id].get(e, {}).get("rank") or 10**9, e))
        for entry_id in out:
            place = places[round_.id].get(entry_id, {})
            rows.append({"entry": entry_id, "rank": None, "value": None, "finalist": False, "out_in": round_.title,
                         "unsure": False, "expert" if round_.kind is RoundKind.EXPERT else "public": place})
        placed.update(out)
    return {
        "version": SNAPSHOT_VERSION, "computed_at": utcnow().isoformat(),
        "formula": {"expert_weight": value.expert_weight, "public_weight": value.public_weight,
                    "combine_on": value.combine_on.value, "expert_round": expert.title if expert else None,
                    "public_round": public.title if public else None,
                    "public_mode": public.public_mode.value if public else None,
                    "counted": [p.name for p in parts if p.weight > 0]},
        "rows": rows, "rounds": summaries, "figures": figures(call),
    }


def _mark_too_close(rows: list[dict]) -> None:
    """Neighbours whose jury rank intervals overlap cannot be told apart by the jury's scores."""
    for above, below in zip(rows, rows[1:], strict=False):
        a, b = above.get("expert") or {}, below.get("expert") or {}
        if {"low", "high"} <= a.keys() and {"low", "high"} <= b.keys() and a["low"] <= b["high"] \
                and b["low"] <= a["high"] or above["rank"] == below["rank"]:
            above["unsure"] = below["unsure"] = True
            above.setdefault("close_to", []).append(below["entry"])


def figures(call: Call) -> dict:
    """The call's figures: entries received and approved, approved ones by participant group and by channel."""
    by_status = dict(db.session.execute(select(Entry.status, func.count()).where(Entry.call_id == call.id)
                                        .group_by(Entry.status)).all())
    approved = (Entry.call_id == call.id, Entry.status == EntryStatus.APPROVED)
    by_group = db.session.execute(select(User.group, func.count()).select_from(Entry)
                                  .outerjoin(User, User.id == Entry.author_id).where(*approved)
                                  .group_by(User.group)).all()
    by_channel = db.session.execute(select(Entry.channel, func.count()).where(*approved)
                                    .group_by(Entry.channel)).all()
    return {
        "received": sum(n for status, n in by_status.items() if status is not EntryStatus.WITHDRAWN),
        "approved": by_status.get(EntryStatus.APPROVED, 0),
        "by_group": sorted([[g.value if g else "", n] for g, n in by_group], key=lambda x: -x[1]),
        "by_channel": sorted([[c.value, n] for c, n in by_channel], key=lambda x: -x[1]),
    }


def snapshot(call: Call) -> dict | None:
    """What the public sees: the published snapshot (None before publication)."""
    return call.results_snapshot if call.results_published_at is not None else None


def shown_rows(call: Call, snap: dict) -> list[dict]:
    """The rows the public ranking shows: every entry, or the top N as the call chose."""
    rows = snap["rows"]
    if call.results_top_n:
        return [r for r in rows if r["rank"] is not None and r["rank"] <= call.results_top_n]
    return rows


# Awards ---------------------------------------------------------------------------------------

def default_awards(call: Call, snap: dict) -> dict[int, int]:
    """The prizes as the computed order gives them: first prizes to the first entries, and so on."""
    finalists = [r["entry"] for r in snap["rows"] if r["finalist"]]
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


def set_awards(actor: User, call: Call, chosen: dict[int, int], statement: str) -> None:
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
    snap = call.results_snapshot if call.results_published_at is not None else compute(call)
    ranked = {r["entry"] for r in snap["rows"]}
    if not set(chosen) <= ranked:
        raise ServiceError(_("Prizes can only go to entries in the ranking."))
    statement = statement.strip()
    departs = chosen != default_awards(call, snap)
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
    if call.results_published_at is not None and changed:
        db.session.add(CallEvent(call_id=call.id, kind="awards_changed", actor_id=actor.id,
                                 detail={"reason": statement[:1000]}))
    db.session.flush()
    record(actor, "results.awards", "call", call.id, awards={str(e): p for e, p in sorted(chosen.items())},
           departs=departs, statement=statement)


# Publication ----------------------------------------------------------------------------------

def publish(actor: User, call: Call, notice_days: int, top_n: int | None) -> None:
    """Freeze the ranking and open the notice period; every entrant is told."""
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    if call.results_published_at is not None:
        raise ServiceError(_("The results are already published."))
    if not rounds_over(call):
        raise ServiceError(_("Every round must be over before the results are published."))
    if not NOTICE_DAYS[0] <= notice_days <= NOTICE_DAYS[1]:
        raise ServiceError(_("The notice period must be between %(low)d and %(high)d days.", low=NOTICE_DAYS[0],
                             high=NOTICE_DAYS[1]))
    if top_n is not None and top_n < 1:
        raise ServiceError(_("Show at least the first entry, or all of them."))
    now = utcnow()
    call.results_snapshot = compute(call)
    if call.prizes and not awards_of(call):
        # Prizes never given by hand follow the computed order: the results never go out without winners.
        for entry_id, prize_id in default_awards(call, call.results_snapshot).items():
            db.session.add(Award(call_id=call.id, entry_id=entry_id, prize_id=prize_id, awarded_by_id=actor.id))
        call.award_statement = ""
    call.results_published_at, call.notice_days = now, notice_days
    call.notice_ends_at, call.results_top_n = now + timedelta(days=notice_days), top_n
    db.session.add(CallEvent(call_id=call.id, kind="results_published", actor_id=actor.id, at=now,
                             detail={"notice_ends": call.notice_ends_at.isoformat(), "days": notice_days}))
    authors = db.session.execute(select(Entry, User).join(User, User.id == Entry.author_id).where(
        Entry.call_id == call.id, Entry.status == EntryStatus.APPROVED).order_by(Entry.id)).all()
    for entry, author in authors:
        send_mail(author.email, author.locale, "results_published", kind=MailKind.RESULTS, user=author, entry=entry,
                  call=call, url=external_url("submit.feedback", entry_id=entry.id),
                  results_url=external_url("public.results", call_id=call.id))
    record(actor, "results.publish", "call", call.id, notice_days=notice_days, top_n=top_n)


def in_notice_period(call: Call, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return call.results_published_at is not None and call.results_final_at is None and now < call.notice_ends_at


def file_objection(user: User, call: Call, entry_id: int | None, reason: str) -> Objection:
    """A citizen objects, during the notice period, to a named entry or to the results as a whole."""
    if not user.is_authenticated:
        raise ServiceError(_("Log in to file an objection."))
    if not user.is_confirmed:
        raise ServiceError(_("Please confirm your e-mail address before filing an objection."))
    if not in_notice_period(call):
        raise ServiceError(_("Objections can be filed only during the notice period."))
    if not reason.strip():
        raise ServiceError(_("Write the reason for your objection."))
    if entry_id is not None and db.session.scalar(select(Entry.id).where(
            Entry.id == entry_id, Entry.call_id == call.id, *public_entries(merged=True))) is None:
        raise ServiceError(_("Choose an entry of this call, or the results as a whole."))
    objection = Objection(call_id=call.id, entry_id=entry_id, author_id=user.id, reason=reason.strip()[:5000])
    db.session.add(objection)
    db.session.add(CallEvent(call_id=call.id, kind="objection_filed", detail={}))
    db.session.flush()
    record(user, "results.object", "call", call.id, objection_id=objection.id, entry_id=entry_id)
    return objection


def answer_objection(actor: User, objection: Objection, answer: str) -> None:
    """The organisers' answer, public on the results page; it can be corrected until the results are final."""
    call = db.session.get(Call, objection.call_id)
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    if call.results_final_at is not None:
        raise ServiceError(_("The results are final."))
    if not answer.strip():
        raise ServiceError(_("Write the answer: it is published with the results."))
    first = objection.answered_at is None
    objection.answer, objection.answered_at, objection.answered_by_id = answer.strip()[:5000], utcnow(), actor.id
    if first:
        db.session.add(CallEvent(call_id=call.id, kind="objection_answered", actor_id=actor.id, detail={}))
    record(actor, "results.answer", "objection", objection.id, first=first)


def objections_of(call: Call) -> list[Objection]:
    return list(db.session.scalars(select(Objection).where(Objection.call_id == call.id)
                                   .options(selectinload(Objection.entry)).order_by(Objection.created_at)))


def final_refusal(call: Call) -> str | None:
    """Why the results cannot be made final now, or None: what `finalise` refuses, for the page that asks first."""
    if call.results_published_at is None:
        return _("Publish the results first.")
    if call.results_final_at is not None:
        return _("The results are already final.")
    if utcnow() < call.notice_ends_at:
        return _("The notice period is not over yet.")
    unanswered = db.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.call_id == call.id, Objection.answered_at.is_(None)))
    if unanswered:
        return _("Answer every objection before making the results final (%(n)d unanswered).", n=unanswered)
    return None


def finalise(actor: User, call: Call) -> None:
    """After the notice period, with every objection answered, the results become final."""
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    refusal = final_refusal(call)
    if refusal:
        raise ServiceError(refusal)
    call.results_final_at = utcnow()
    db.session.add(CallEvent(call_id=call.id, kind="results_final", actor_id=actor.id, at=call.results_final_at))
    record(actor, "results.finalise", "call", call.id)


def tell_notice_periods_over(now: datetime | None = None) -> int:
    """Tell the organisers of each call whose notice period has ended, results not yet final, that they can answer
    what is left and make the results final; returns how many calls. The worker runs this at every turn of its clock.

    Once per call: claimed by one conditional UPDATE and committed with its mails (unlike the services a page
    calls), so two workers at once tell the organisers once. Needs no request: the link is the configured site's.
    """
    now = now or utcnow()
    waiting = (Call.results_published_at.is_not(None), Call.results_final_at.is_(None), Call.notice_ends_at <= now,
               Call.notice_over_told_at.is_(None))
    call_ids = list(db.session.scalars(select(Call.id).where(*waiting).order_by(Call.id)))
    db.session.commit()  # each claim below starts a fresh transaction (SQLite refuses to upgrade a stale read)
    told = 0
    for call_id in call_ids:
        claimed = db.session.execute(update(Call).where(Call.id == call_id, *waiting).values(notice_over_told_at=now)
                                     .execution_options(synchronize_session=False)).rowcount
        if not claimed:  # another worker told them a moment ago
            db.session.rollback()
            continue
        call = db.session.get(Call, call_id)
        unanswered = db.session.scalar(select(func.count()).select_from(Objection).where(
            Objection.call_id == call_id, Objection.answered_at.is_(None)))
        organisers = organisers_of(call)
        for organiser in organisers:
            send_mail(organiser.email, organiser.locale, "notice_period_over", user=organiser, call=call,
                      unanswered=unanswered, url=external_url("console.results", call_id=call_id))
        record(None, "results.notice_over", "call", call_id, told=len(organisers), unanswered=unanswered)
        db.session.commit()
        told += 1
    return told


# Feedback -------------------------------------------------------------------------------------

@dataclass
class RoundFeedback:
    summary: dict  # the round as the results page describes it
    place: dict | None  # the entry's place in it (score, rank, advanced, ...)
    notes: list[str]  # the jurors' notes to the entrant, without names, in an order that tells nothing
    criteria: list[tuple[str, int, float | None]]  # (criterion, weight, the entry's mean mark)


@dataclass
class Feedback:
    entry: Entry
    published: bool
    rounds: list[RoundFeedback]
    row: dict | None  # the entry's row of the final ranking
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
    row = next((r for r in snap["rows"] if r["entry"] == entry.id), None)
    for summary in snap["rounds"]:
        place = (summary.get("places") or {}).get(str(entry.id))
        if place is None:
            continue
        means = place.get("criteria", {})
        criteria = [(c["name"], c["weight"], means.get(str(c["id"]))) for c in summary.get("criteria", [])]
        notes = sorted(notes_by_round[summary["id"]], key=lambda n: hashlib.sha256(n.encode()).hexdigest())
        rounds.append(RoundFeedback(summary, place, notes, criteria))
    award = db.session.scalar(select(Award).where(Award.call_id == call.id, Award.entry_id == entry.id)
                              .options(selectinload(Award.prize)))
    return Feedback(entry, True, rounds, row, sum(1 for r in snap["rows"] if r["finalist"]), award)


# Exports --------------------------------------------------------------------------------------

EXPORT_COLUMNS = ["rank", "entry_id", "title", "author", "finalist", "out_in", "combined", "expert_score",
                  "expert_rank", "expert_rank_low", "expert_rank_high", "jurors", "public_score", "public_rank",
                  "prize"]


def export_rows(call: Call) -> tuple[dict, list[dict]]:
    """The ranking with every part of each score, for the organisers (the snapshot once published)."""
    snap = snapshot(call) or compute(call)
    entries = {e.id: e for e in db.session.scalars(select(Entry).where(Entry.call_id == call.id)
                                                   .options(selectinload(Entry.author)))}
    awards = awards_of(call)
    criteria = next((r.get("criteria", []) for r in reversed(snap["rounds"]) if r["kind"] == "expert"), [])
    rows = []
    for row in snap["rows"]:
        entry, expert, public = entries.get(row["entry"]), row.get("expert") or {}, row.get("public") or {}
        out = {"rank": row["rank"], "entry_id": row["entry"], "title": entry.title if entry else "",
               "author": entry.byline if entry else "", "finalist": row["finalist"], "out_in": row["out_in"] or "",
               "combined": row["value"], "expert_score": expert.get("score"), "expert_rank": expert.get("rank"),
               "expert_rank_low": expert.get("low"), "expert_rank_high": expert.get("high"),
               "jurors": expert.get("jurors"), "public_score": public.get("score"),
               "public_rank": public.get("rank"),
               "prize": awards[row["entry"]].prize.name if row["entry"] in awards else ""}
        for criterion in criteria:
            out[f"criterion:{criterion['name']}"] = (expert.get("criteria") or {}).get(str(criterion["id"]))
        rows.append(out)
    return snap, rows


def export_csv(call: Call) -> str:
    """The ranking as CSV (contest.tabular: formulas escaped, with a byte-order mark)."""
    _snap, rows = export_rows(call)
    return csv_dicts_text(list(rows[0]) if rows else EXPORT_COLUMNS, rows)


def export_json(call: Call) -> str:
    snap, rows = export_rows(call)
    return json.dumps({"call": {"id": call.id, "title": call.title},
                       "published_at": call.results_published_at.isoformat() if call.results_published_at else None,
                       "final_at": call.results_final_at.isoformat() if call.results_final_at else None,
                       "formula": snap["formula"], "rounds": snap["rounds"], "figures": snap["figures"],
                       "ranking": rows, "award_statement": call.award_statement}, ensure_ascii=False, indent=1)


def remap_snapshot(snap: dict, entries: dict[int, int], rounds: dict[int, int],
                   criteria: dict[int, int]) -> dict:
    """The snapshot with its ids translated (old -> new), for a call restored from an archive into a site where
    its rows got other ids. The ids it holds: entries (rows, close_to, each round's places), rounds, and criteria
    (each round's list, its mark distributions, each place's mean marks). A missing id raises KeyError."""
    if snap.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"snapshot version {snap.get('version')}, not {SNAPSHOT_VERSION}")

    def by_criterion(values: dict) -> dict:
        return {str(criteria[int(k)]): v for k, v in values.items()}

    def place(value: dict) -> dict:
        return {**value, "criteria": by_criterion(value["criteria"])} if "criteria" in value else value

    rows = []
    for row in snap["rows"]:
        row = {**row, "entry": entries[row["entry"]]}
        if "close_to" in row:
            row["close_to"] = [entries[e] for e in row["close_to"]]
        for part in ("expert", "public"):
            if row.get(part):
                row[part] = place(row[part])
        rows.append(row)
    summaries = []
    for summary in snap["rounds"]:
        summary = {**summary, "id": rounds[summary["id"]]}
        if "criteria" in summary:
            summary["criteria"] = [{**c, "id": criteria[c["id"]]} for c in summary["criteria"]]
        if "distributions" in summary:
            summary["distributions"] = by_criterion(summary["distributions"])
        if "places" in summary:
            summary["places"] = {str(entries[int(e)]): place(p) for e, p in summary["places"].items()}
        summaries.append(summary)
    return {**snap, "rows": rows, "rounds": summaries}
