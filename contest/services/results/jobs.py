"""The worker's jobs for a call's results (contest.models.ResultsJob): which calls are too large for a request, a
job queued by a request, claimed by one worker, its progress written as it goes, and what the organisers are shown.

A call with more entries than RESULTS_INLINE_ENTRIES has its snapshot computed (ranking.compute_queued) and its
entrants mailed of the publication (publication.mail_queued) by the worker; a smaller one in the request. Its
snapshot is asked for when its last round ends (queue_due, on the clock; queue_if_due, when an organiser closes a
round early), so that it is ready when the organisers first look, and again by their page if it was dropped since.
Each job is one row per call and kind, claimed with a lease: a worker that dies leaves it to another once the lease
is over.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, or_, select, update

from contest.database import claimed_one_by_one, insert_ignoring_conflicts
from contest.extensions import db
from contest.models import Call, Entry, JobKind, JobState, ResultsJob, Round
from contest.models.types import utcnow

LEASE = timedelta(minutes=15)  # a job not heard of for this long is taken up by another worker
QUEUED_PER_PASS = 20  # snapshots the clock asks for at one turn (the same pass computes them)


def _large(call_id) -> ColumnElement[bool]:
    """SQL: the call (an id, or a column) has more entries than RESULTS_INLINE_ENTRIES: whether its entry at that
    offset exists, read off the call's index of entries no further than that, not counted whole."""
    limit = current_app.config["RESULTS_INLINE_ENTRIES"]
    return select(Entry.id).where(Entry.call_id == call_id).limit(1).offset(limit).exists()


def in_worker(call: Call) -> bool:
    """Whether this call's results are too large for a request: more entries than RESULTS_INLINE_ENTRIES."""
    return bool(db.session.scalar(select(_large(call.id))))


def _afresh(total: int = 0, now: datetime | None = None) -> dict:
    """A job's columns when it is asked for from the start."""
    return {"state": JobState.QUEUED, "requested_at": now or utcnow(), "error": "", "stage": "", "done": 0,
            "total": total, "cursor": None, "finished_at": None}


def job_of(call: Call, kind: JobKind) -> ResultsJob | None:
    return db.session.scalar(select(ResultsJob).where(ResultsJob.call_id == call.id, ResultsJob.kind == kind))


def queue(call: Call, kind: JobKind, total: int = 0, again: bool = False) -> ResultsJob:
    """Ask the worker for this job: a new one, or one done before (its result since dropped) wanted again; a
    failed one only when asked `again` (the organisers' retry), from where it stopped. One queued or under way is
    left as it is."""
    job = job_of(call, kind)
    if job is None:
        job = ResultsJob(call_id=call.id, kind=kind, state=JobState.QUEUED, total=total, requested_at=utcnow())
        db.session.add(job)
        db.session.flush()
    elif job.state is JobState.DONE:  # wanted again from the start
        for name, value in _afresh(total).items():
            setattr(job, name, value)
    elif job.state is JobState.FAILED and again:  # taken up where it stopped (a mailing, after its last batch)
        job.state, job.requested_at, job.error, job.finished_at = JobState.QUEUED, utcnow(), "", None
    return job


def _ended(call_id) -> ColumnElement[datetime]:
    """SQL: when the call's last round ended (contest.models.Round.ended_at)."""
    return (select(func.max(Round.ended_at())).where(Round.call_id == call_id).correlate_except(Round)
            .scalar_subquery())


def _snapshot_due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """SQL, on Call: a large call whose rounds are all over by their dates, with no snapshot stored or published,
    whose snapshot nobody asked for since its last round ended (never, or done before a round was added: a job
    done since and its snapshot dropped is asked for again by the organisers' page, not by the clock; a queued,
    running or failed one is left as it is). Each part an indexed look-up of the call's rows."""
    rounds = select(Round.id).where(Round.call_id == Call.id)
    asked_since = select(ResultsJob.id).where(
        ResultsJob.call_id == Call.id, ResultsJob.kind == JobKind.SNAPSHOT,
        or_(ResultsJob.state != JobState.DONE, ResultsJob.requested_at >= _ended(Call.id)))
    return (Call.results_published_at.is_(None), Call.no_results_snapshot(), rounds.exists(),
            ~rounds.where(~Round.over_at(now)).exists(), ~asked_since.exists(), _large(Call.id))


def _claim_snapshot(call_id: int, now: datetime) -> bool:
    """Ask for the call's snapshot, once however many workers try at once: its job inserted (a conflict on the
    call's job means another asked a moment ago), or one done before its last round ended made queued again by a
    conditional update. Whether this worker asked."""
    if insert_ignoring_conflicts(ResultsJob, {"call_id": call_id, "kind": JobKind.SNAPSHOT, **_afresh(now=now)},
                                 keys=["call_id", "kind"]):
        return True
    return bool(db.session.execute(update(ResultsJob).where(
        ResultsJob.call_id == call_id, ResultsJob.kind == JobKind.SNAPSHOT, ResultsJob.state == JobState.DONE,
        ResultsJob.requested_at < _ended(call_id)).values(**_afresh(now=now))
        .execution_options(synchronize_session=False)).rowcount)


def queue_due(now: datetime | None = None) -> int:
    """The worker's clock: ask for the snapshot of each large call whose last round has ended (by time passing:
    nobody needs to ask), at most QUEUED_PER_PASS a turn, each claim committed on its own. How many were asked."""
    now = now or utcnow()
    db.session.commit()  # each claim starts a fresh transaction (SQLite refuses to upgrade a stale read)
    call_ids = list(db.session.scalars(select(Call.id).where(*_snapshot_due(now)).order_by(Call.id)
                                       .limit(QUEUED_PER_PASS)))
    queued = 0
    for call_id in call_ids:
        queued += _claim_snapshot(call_id, now)
        db.session.commit()
    return queued


def queue_if_due(call: Call) -> bool:
    """An organiser's action ended a round early: if that was the call's last and the call is large, its snapshot
    is asked for now, in the action's transaction, rather than at the clock's next turn. Whether it was."""
    now = utcnow()
    db.session.flush()  # the round's new closing date
    if db.session.scalar(select(Call.id).where(Call.id == call.id, *_snapshot_due(now))) is None:
        return False
    return _claim_snapshot(call.id, now)


def changed(call_ids: Iterable[int], connection) -> None:
    """What a snapshot of these calls is computed from changed: a computation queued or under way is of an older
    generation now, and is thrown away when it ends (ranking.compute_queued computes it again)."""
    ids = sorted(set(call_ids))
    if ids:
        connection.execute(update(ResultsJob).where(
            ResultsJob.call_id.in_(ids), ResultsJob.kind == JobKind.SNAPSHOT,
            ResultsJob.state.in_([JobState.QUEUED, JobState.RUNNING]))
            .values(generation=ResultsJob.generation + 1).execution_options(synchronize_session=False))


def claimed(kind: JobKind, now: datetime | None = None) -> Iterator[ResultsJob]:
    """The due jobs of this kind (queued, or under way by a worker whose lease ended) this worker claims, one at a
    time (contest.database.claimed_one_by_one: the claim is committed with the first progress written)."""
    now = now or utcnow()
    due = (ResultsJob.kind == kind, or_(ResultsJob.state == JobState.QUEUED,
                                        (ResultsJob.state == JobState.RUNNING) & (ResultsJob.lease_until < now)))
    ids = list(db.session.scalars(select(ResultsJob.id).where(*due).order_by(ResultsJob.requested_at)))
    yield from claimed_one_by_one(ResultsJob, ids, lambda _id: (due, {
        "state": JobState.RUNNING, "started_at": now, "lease_until": now + LEASE,
        "attempts": ResultsJob.attempts + 1}))


def progress(job_id: int, stage: str, done: int, total: int, **values) -> None:
    """Write how far the job got, extend its lease, and commit (so the organisers' page sees it)."""
    db.session.execute(update(ResultsJob).where(ResultsJob.id == job_id).values(
        stage=stage, done=done, total=total, lease_until=utcnow() + LEASE, **values)
        .execution_options(synchronize_session=False))
    db.session.commit()


def finish(job_id: int, generation: int | None = None) -> bool:
    """Mark the job done (for a snapshot: only if nothing it was computed from changed since it was claimed, in
    the transaction that stores it). Whether it was."""
    where = [ResultsJob.id == job_id, ResultsJob.state == JobState.RUNNING]
    if generation is not None:
        where.append(ResultsJob.generation == generation)
    return bool(db.session.execute(update(ResultsJob).where(*where).values(
        state=JobState.DONE, finished_at=utcnow(), lease_until=None, done=ResultsJob.total, error="")
        .execution_options(synchronize_session=False)).rowcount)


def again_later(job_id: int) -> None:
    """The job's result is out of date before it was stored: queued again, for the next pass."""
    db.session.execute(update(ResultsJob).where(ResultsJob.id == job_id, ResultsJob.state == JobState.RUNNING)
                       .values(state=JobState.QUEUED, lease_until=None, stage="", done=0)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def failed(job_id: int, error: BaseException) -> None:
    """The job failed: the organisers see it, and why, with a button to try again."""
    db.session.rollback()
    db.session.execute(update(ResultsJob).where(ResultsJob.id == job_id).values(
        state=JobState.FAILED, lease_until=None, finished_at=utcnow(),
        error=f"{type(error).__name__}: {error}"[:2000]).execution_options(synchronize_session=False))
    db.session.commit()


# What the organisers are shown --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    """A job as the organisers' page shows it."""

    kind: JobKind
    state: JobState
    stage: str  # what it is doing, in the reader's language
    done: int
    total: int
    percent: int
    requested_at: datetime
    error: str

    @property
    def waiting(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)

    @property
    def failed(self) -> bool:
        return self.state is JobState.FAILED


def _stage_text(job: ResultsJob) -> str:
    if job.state is JobState.QUEUED:
        return _("Waiting for the worker")
    if job.kind is JobKind.MAIL:
        return _("Telling the entrants: %(done)d of %(total)d", done=job.done, total=job.total)
    stages = {"start": _("Starting"), "figures": _("Counting the call's figures"),
              "combine": _("Combining the rounds"), "store": _("Storing the ranking")}
    if job.stage.startswith("round:"):
        _name, n, of = job.stage.split(":")
        return _("Tallying round %(n)s of %(of)s", n=n, of=of)
    return stages.get(job.stage, "")


def shown(call: Call, kind: JobKind) -> Progress | None:
    """The job as the organisers' page shows it, or None when there is none or it is done."""
    job = job_of(call, kind)
    if job is None or job.state is JobState.DONE:
        return None
    return Progress(job.kind, job.state, _stage_text(job), job.done, job.total, job.percent, job.requested_at,
                    job.error)
