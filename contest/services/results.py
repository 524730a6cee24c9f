"""Results of a call: the final formula, the final ranking, awards, publication into a notice period (公示期),
objections and their answers, making the results final, and each entrant's feedback.

The ranking is computed from the rounds (contest.formula does the arithmetic) into one typed snapshot
(contest.snapshot). The organiser previews it live; publishing freezes it on the call as JSON, so the published
page reads one row and says exactly what was published, whatever happens to the underlying tables later.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from contest import formula
from contest.extensions import db
from contest.links import external_url
from contest.mail import send_mail, send_once_each
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
from contest.snapshot import CriterionShown, Figures, FormulaUsed, Place, RoundSummary, Row, Snapshot
from contest.tabular import csv_dicts_text

NOTICE_DAYS = (0, 60)  # 0: no notice period, the results are final on publication
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


def _round_summary(round_: Round, entry_ids: list[int]) -> tuple[RoundSummary, dict[int, Place]]:
    """What the results page says about one round, and each entry's place in it."""
    advanced = set(db.session.scalars(select(RoundEntry.entry_id).where(
        RoundEntry.round_id == round_.id, RoundEntry.advanced.is_(True))))
    common = {"id": round_.id, "title": round_.title, "kind": round_.kind.value, "entries": len(entry_ids),
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
            criteria=[CriterionShown(c.id, c.name, c.weight, c.description) for c in round_.criteria],
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
        ranks = formula.fractional_ranks(entry_ids, scores)
        model, _target = public_service._ballots(round_)
        for entry_id in entry_ids:
            places[entry_id] = Place(score=scores.get(entry_id), rank=_competition_rank(ranks, entry_id),
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


def _competition_rank(fractional: dict[int, float], entry_id: int) -> int:
    """From fractional ranks back to "1, 2, 2, 4": one more than the entries placed strictly better."""
    mine = fractional[entry_id]
    return 1 + sum(1 for r in fractional.values() if r < mine - formula.EPSILON)


def compute(call: Call) -> Snapshot:
    """The final ranking and everything the results page shows, as one snapshot."""
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


def snapshot(call: Call) -> Snapshot | None:
    """What the public sees: the published snapshot (None before publication)."""
    if call.results_published_at is None or call.results_snapshot is None:
        return None
    return Snapshot.from_json(call.results_snapshot)


def shown_rows(call: Call, snap: Snapshot) -> list[Row]:
    """The rows the public ranking shows: every entry, or the top N as the call chose."""
    rows = snap.rows
    if call.results_top_n:
        return [r for r in rows if r.rank is not None and r.rank <= call.results_top_n]
    return rows


# Awards ---------------------------------------------------------------------------------------

def default_awards(call: Call, snap: Snapshot) -> dict[int, int]:
    """The prizes as the computed order gives them: first prizes to the first entries, and so on."""
    finalists = [r.entry for r in snap.finalists]
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
    snap = snapshot(call) or compute(call)
    ranked = {r.entry for r in snap.rows}
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

@dataclass(frozen=True)
class FeedbackLink:
    """An entrant's entry and the address of its feedback, as the results mail lists them."""

    entry: Entry
    url: str


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
    snap = compute(call)
    call.results_snapshot = snap.to_json()
    if call.prizes and not awards_of(call):
        # Prizes never given by hand follow the computed order: the results never go out without winners.
        for entry_id, prize_id in default_awards(call, snap).items():
            db.session.add(Award(call_id=call.id, entry_id=entry_id, prize_id=prize_id, awarded_by_id=actor.id))
        call.award_statement = ""
    call.results_published_at, call.notice_days = now, notice_days
    call.notice_ends_at, call.results_top_n = now + timedelta(days=notice_days), top_n
    db.session.add(CallEvent(call_id=call.id, kind="results_published", actor_id=actor.id, at=now,
                             detail={"notice_ends": call.notice_ends_at.isoformat(), "days": notice_days}))
    record(actor, "results.publish", "call", call.id, notice_days=notice_days, top_n=top_n)
    if notice_days == 0:  # no notice period: nobody can object, so the results are final now, by the same person
        _make_final(actor, call, now, notice_days=0)
    authors = db.session.execute(select(Entry, User).join(User, User.id == Entry.author_id).where(
        Entry.call_id == call.id, Entry.status == EntryStatus.APPROVED).order_by(Entry.id)).all()
    send_once_each([(author, FeedbackLink(entry, external_url("submit.feedback", entry_id=entry.id)))
                    for entry, author in authors], "results_published", kind=MailKind.RESULTS, call=call,
                   results_url=external_url("public.results", call_id=call.id))


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
        _tell_objector(objection, call)
    record(actor, "results.answer", "objection", objection.id, first=first)


def _tell_objector(objection: Objection, call: Call) -> None:
    """The citizen who filed the objection is mailed its first answer (a correction is only published)."""
    author = objection.author
    if author is None or author.disabled_at is not None:
        return
    send_mail(author.email, author.locale, "objection_answered", kind=MailKind.OBJECTION, user=author,
              objection=objection, call=call, url=external_url("public.results", call_id=call.id, _anchor="objections"))


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
    _make_final(actor, call, utcnow())


def _make_final(actor: User, call: Call, at: datetime, **detail) -> None:
    """The results become final: when and by whom, on the timeline and in the log."""
    call.results_final_at = at
    db.session.add(CallEvent(call_id=call.id, kind="results_final", actor_id=actor.id, at=at))
    record(actor, "results.finalise", "call", call.id, **detail)


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
    row = snap.row_of(entry.id)
    for summary in snap.rounds:
        place = summary.place_of(entry.id)
        if place is None:
            continue
        means = place.criteria or {}
        criteria = [(c.name, c.weight, means.get(str(c.id))) for c in summary.criteria]
        notes = sorted(notes_by_round[summary.id], key=lambda n: hashlib.sha256(n.encode()).hexdigest())
        rounds.append(RoundFeedback(summary, place, notes, criteria))
    award = db.session.scalar(select(Award).where(Award.call_id == call.id, Award.entry_id == entry.id)
                              .options(selectinload(Award.prize)))
    return Feedback(entry, True, rounds, row, len(snap.finalists), award)


# Exports --------------------------------------------------------------------------------------

EXPORT_COLUMNS = ["rank", "entry_id", "title", "author", "finalist", "out_in", "combined", "expert_score",
                  "expert_rank", "expert_rank_low", "expert_rank_high", "jurors", "public_score", "public_rank",
                  "prize"]


def export_rows(call: Call) -> tuple[Snapshot, list[dict]]:
    """The ranking with every part of each score, for the organisers (the snapshot once published)."""
    snap = snapshot(call) or compute(call)
    entries = {e.id: e for e in db.session.scalars(select(Entry).where(Entry.call_id == call.id)
                                                   .options(selectinload(Entry.author)))}
    awards = awards_of(call)
    criteria = next((r.criteria for r in reversed(snap.rounds) if r.is_expert), [])
    rows = []
    for row in snap.rows:
        entry, expert, public = entries.get(row.entry), row.expert or Place(), row.public or Place()
        out = {"rank": row.rank, "entry_id": row.entry, "title": entry.title if entry else "",
               "author": entry.byline if entry else "", "finalist": row.finalist, "out_in": row.out_in or "",
               "combined": row.value, "expert_score": expert.score, "expert_rank": expert.rank,
               "expert_rank_low": expert.low, "expert_rank_high": expert.high,
               "jurors": expert.jurors, "public_score": public.score,
               "public_rank": public.rank,
               "prize": awards[row.entry].prize.name if row.entry in awards else ""}
        for criterion in criteria:
            out[f"criterion:{criterion.name}"] = (expert.criteria or {}).get(str(criterion.id))
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
                       "formula": snap.formula.to_json(), "rounds": [r.to_json() for r in snap.rounds],
                       "figures": snap.figures.to_json(),
                       "ranking": rows, "award_statement": call.award_statement}, ensure_ascii=False, indent=1)


def remap_snapshot(snap: dict, entries: dict[int, int], rounds: dict[int, int],
                   criteria: dict[int, int]) -> dict:
    """A stored snapshot with its ids translated (old -> new), for a call restored from an archive into a site
    where its rows got other ids (see Snapshot.remapped). A missing id raises KeyError; another version
    ValueError."""
    return Snapshot.from_json(snap).remapped(entries, rounds, criteria).to_json()
