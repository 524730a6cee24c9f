"""Publication into a notice period (公示期), objections and their answers, and making the results final."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import load_only, selectinload

from contest.database import claimed_one_by_one
from contest.extensions import db
from contest.i18n import english
from contest.links import external_url
from contest.mail import send_mail, send_once_each
from contest.models import (
    CHANNEL_LABELS,
    GROUP_LABELS,
    Award,
    Call,
    CallEvent,
    Channel,
    Entry,
    EntryImage,
    EntryStatus,
    Image,
    JobKind,
    MailKind,
    Objection,
    ParticipantGroup,
    User,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call, organisers_of
from contest.services import ServiceError, following
from contest.services.audit import record
from contest.services.results import jobs, stored
from contest.services.results.awards import awards_of, default_awards
from contest.services.results.ranking import current, rounds_over
from contest.services.visibility import public_entries
from contest.snapshot import Row, Summary

log = logging.getLogger(__name__)

NOTICE_DAYS = (0, 60)  # 0: no notice period, the results are final on publication
MAIL_BATCH = 500  # entrants told in one transaction of the worker


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
    # The preview the organisers saw, computed once (and again only if what it came from changed); a large call's
    # is the worker's to compute, never the request's.
    if current(call) is None:
        raise ServiceError(_("The results are being computed: publish them once they are ready."))
    if call.prizes and not awards_of(call):
        # Prizes never given by hand follow the computed order: the results never go out without winners.
        for entry_id, prize_id in default_awards(call).items():
            db.session.add(Award(call_id=call.id, entry_id=entry_id, prize_id=prize_id, awarded_by_id=actor.id))
        call.award_statement = ""
    call.results_published_at, call.notice_days = now, notice_days
    call.notice_ends_at, call.results_top_n = now + timedelta(days=notice_days), top_n
    db.session.add(CallEvent(call_id=call.id, kind="results_published", actor_id=actor.id, at=now,
                             detail={"notice_ends": call.notice_ends_at.isoformat(), "days": notice_days}))
    record(actor, "results.publish", "call", call.id, notice_days=notice_days, top_n=top_n)
    if notice_days == 0:  # no notice period: nobody can object, so the results are final now, by the same person
        _make_final(actor, call, now, notice_days=0)
    if jobs.in_worker(call):  # too many mails to render in a request: the worker writes them, in batches
        jobs.queue(call, JobKind.MAIL, total=db.session.scalar(
            select(func.count(func.distinct(Entry.author_id))).where(*_approved(call))))
    else:
        following.tell_results_published(call, already_told=tell_entrants(call))


def _approved(call: Call) -> tuple:
    return Entry.call_id == call.id, Entry.status == EntryStatus.APPROVED


def tell_entrants(call: Call, after: int = 0, limit: int | None = None) -> list[User]:
    """Tell each entrant of an approved entry of the call, by user id above `after` and at most `limit` of them,
    that the results are published: one mail each listing their entries with the address of each one's feedback.
    The people told, by id."""
    people = select(Entry.author_id).where(*_approved(call), Entry.author_id > after).distinct() \
        .order_by(Entry.author_id)
    ids = list(db.session.scalars(people.limit(limit) if limit else people))
    if not ids:
        return []
    authors = db.session.execute(select(Entry, User).join(User, User.id == Entry.author_id).where(
        *_approved(call), Entry.author_id.in_(ids)).order_by(Entry.author_id, Entry.id)).all()
    entrants = list({author.id: author for _entry, author in authors}.values())
    send_once_each([(author, FeedbackLink(entry, external_url("submit.feedback", entry_id=entry.id)))
                    for entry, author in authors], "results_published", kind=MailKind.RESULTS, call=call,
                   results_url=external_url("public.results", call_id=call.id),
                   per_person=following.unfollow_links(call, entrants))
    return entrants


def mail_queued(now: datetime | None = None) -> int:
    """The worker's clock: tell the entrants of each call published with a mailing left to the worker, MAIL_BATCH
    people a transaction, each batch's mails committed with how far it got (the job's cursor, the last user id
    told), so that a worker that dies or fails leaves the rest to the next without telling anyone twice; then
    the call's followers who are no entrant. How many mailings ended."""
    ended = 0
    for job in jobs.claimed(JobKind.MAIL, now):
        job_id, call_id, cursor, done, total = job.id, job.call_id, job.cursor or 0, job.done, job.total
        try:
            while told := tell_entrants(db.session.get(Call, call_id), after=cursor, limit=MAIL_BATCH):
                cursor, done = told[-1].id, done + len(told)
                jobs.progress(job_id, "mail", done, max(done, total), cursor=cursor)  # with the batch's mails
            call = db.session.get(Call, call_id)
            entrants = db.session.scalars(select(User).where(User.id.in_(
                select(Entry.author_id).where(*_approved(call)))).options(load_only(User.id))).all()
            following.tell_results_published(call, already_told=entrants)
            jobs.finish(job_id)
            ended += 1
        except Exception as error:  # noqa: BLE001 - shown to the organisers as failed, with a retry
            log.exception("the results mails of call %s stopped after user %s", call_id, cursor)
            jobs.failed(job_id, error)
    return ended


def mailing(call: Call) -> jobs.Progress | None:
    """The worker's mailing of the publication to a large call's entrants as the organisers see it, or None when
    there is none under way."""
    return jobs.shown(call, JobKind.MAIL)


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
        raise ServiceError(_("No entry of this call has the number %(number)d.", number=entry_id))
    objection = Objection(call_id=call.id, entry_id=entry_id, author_id=user.id, reason=reason.strip()[:5000])
    db.session.add(objection)
    db.session.add(CallEvent(call_id=call.id, kind="objection_filed", detail={}))
    db.session.flush()
    record(user, "results.object", "call", call.id, objection_id=objection.id, entry_id=entry_id)
    return objection


def answer_objection(actor: User, objection: Objection, answer: str, answer_en: str = "") -> None:
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
    objection.answer_en = (english(answer_en) or "")[:10000] or None
    if first:
        db.session.add(CallEvent(call_id=call.id, kind="objection_answered", actor_id=actor.id, detail={}))
        _tell_objector(objection, call)
        following.tell_objection_answered(call, already_told=[objection.author] if objection.author else [])
    record(actor, "results.answer", "objection", objection.id, first=first)


def _tell_objector(objection: Objection, call: Call) -> None:
    """The citizen who filed the objection is mailed its first answer (a correction is only published)."""
    author = objection.author
    if author is None or author.disabled_at is not None:
        return
    send_mail(author.email, author.locale, "objection_answered", kind=MailKind.OBJECTION, user=author,
              objection=objection, call=call, url=external_url("public.results", call_id=call.id, _anchor="objections"),
              **following.unfollow_links(call, [author])(author))


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
    told = 0
    for call in claimed_one_by_one(Call, call_ids, lambda _id: (waiting, {"notice_over_told_at": now})):
        unanswered = db.session.scalar(select(func.count()).select_from(Objection).where(
            Objection.call_id == call.id, Objection.answered_at.is_(None)))
        organisers = organisers_of(call)
        for organiser in organisers:
            send_mail(organiser.email, organiser.locale, "notice_period_over", user=organiser, call=call,
                      unanswered=unanswered, url=external_url("console.results", call_id=call.id))
        record(None, "results.notice_over", "call", call.id, told=len(organisers), unanswered=unanswered)
        told += 1
    return told


def results_context(call: Call, snap: Summary, rows: list[Row]) -> dict:
    """What the results pages need besides the snapshot, in a fixed number of queries: the titles of the entries
    of `rows`, of the awards and of the objections only, not of every entry of the call."""
    awards = awards_of(call)
    objections = objections_of(call)
    named = {r.entry for r in rows} | set(awards) | {o.entry_id for o in objections if o.entry_id is not None}
    entries = {e.id: e for e in db.session.scalars(
        select(Entry).where(Entry.call_id == call.id, Entry.id.in_(named), *public_entries(merged=True))
        .options(load_only(Entry.id, Entry.title)))}
    winners = db.session.scalars(
        select(Entry).where(Entry.id.in_(list(awards)))
        .options(selectinload(Entry.pictures).joinedload(EntryImage.image).lazyload(Image.files))).all()
    order = stored.positions(call, awards)
    winners = sorted(winners, key=lambda e: (awards[e.id].prize.position, order.get(e.id, 0)))
    return {"call": call, "snap": snap, "rows": rows, "entries": entries, "awards": awards, "winners": winners,
            "objections": objections, "group_labels": GROUP_LABELS,
            "channel_labels": CHANNEL_LABELS, "channels": {c.value: c for c in Channel},
            "groups": {g.value: g for g in ParticipantGroup}}
