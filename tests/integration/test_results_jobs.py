"""A large call's results: its snapshot computed by the worker with the progress shown to the organisers, thrown
away and computed again when what it came from changes, a failure shown with a retry; its publication quick, and
its entrants told by the worker, each once."""
from datetime import timedelta

import pytest
from sqlalchemy import JSON, func, select, update

from contest.extensions import db
from contest.models import Call, JobKind, JobState, MailKind, OutboxMail, ResultsJob, Vote
from contest.models.types import utcnow
from contest.services import results as results_service
from contest.services.results import jobs, publication, ranking
from contest.worker import run_clock
from tests.helpers import approved_entries, log_in, make_call, make_public_round, make_round, post_form, zh
from tests.integration.test_outbox import in_a_worker
from tests.integration.test_results import _same_as_fresh


@pytest.fixture
def large(app):
    """Every call counts as large: its results are the worker's."""
    app.config["RESULTS_INLINE_ENTRIES"] = 2


def worker_clock(app) -> dict:
    return in_a_worker(app, lambda: run_clock(utcnow() + timedelta(seconds=1)))


def results_page(client, call) -> str:
    response = client.get(f"/console/calls/{call.id}/results")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def job(call, kind=JobKind.SNAPSHOT) -> ResultsJob | None:
    db.session.expire_all()
    return db.session.scalar(select(ResultsJob).where(ResultsJob.call_id == call.id, ResultsJob.kind == kind))


def test_a_large_calls_results_are_computed_by_the_worker_while_the_page_shows_how_far(
        app, client, story, transport_organiser, large, monkeypatch):
    call, entries = story["call"], story["entries"]
    log_in(client, transport_organiser.email)
    html = results_page(client, call)
    assert zh("The results are being computed") in html
    assert zh("Waiting for the worker") in html
    assert '<meta http-equiv="refresh" content="5">' in html
    assert entries[0].title not in html  # nothing computed in the request
    assert results_service.stored.summary(db.session.get(Call, call.id)) is None
    assert job(call).state is JobState.QUEUED
    results_page(client, call)  # looking again asks for nothing more
    assert db.session.scalar(select(func.count()).select_from(ResultsJob)) == 1

    seen = []  # what the page would show at each step the worker commits
    write = jobs.progress

    def progress(job_id, stage, done, total, **values):
        write(job_id, stage, done, total, **values)
        seen.append((stage, job(call).percent, job(call).state))

    monkeypatch.setattr(jobs, "progress", progress)
    assert worker_clock(app)["results"] == 1
    assert [stage for stage, _percent, _state in seen] == ["start", "round:1:2", "round:2:2", "combine", "figures",
                                                           "store"]
    assert all(state is JobState.RUNNING for _stage, _percent, state in seen)
    assert [percent for _stage, percent, _state in seen] == sorted(percent for _stage, percent, _state in seen)
    assert job(call).state is JobState.DONE
    _same_as_fresh(call)

    html = results_page(client, call)
    assert zh("The results are being computed") not in html and "http-equiv" not in html
    assert all(entry.title in html for entry in entries[:3])  # the finalists, with their prizes
    assert worker_clock(app)["results"] == 0  # done once


def test_a_voided_vote_drops_the_workers_snapshot_and_it_is_computed_again(app, client, story, transport_organiser,
                                                                          large):
    call, public, entries = story["call"], story["public"], story["entries"]
    log_in(client, transport_organiser.email)
    results_page(client, call)
    worker_clock(app)
    rows = {row.entry: row for row in results_service.stored.rows(db.session.get(Call, call.id))}
    assert rows[entries[1].id].public.score == 3

    ballot = db.session.scalar(select(Vote.id).where(Vote.round_id == public.id, Vote.entry_id == entries[1].id,
                                                     Vote.voided_at.is_(None)).order_by(Vote.id))
    response = post_form(client, f"/console/rounds/{public.id}/void", {"ballot": [str(ballot)],
                                                                        "reason": "同一账号重复操作"},
                         page=f"/console/rounds/{public.id}/")
    assert response.status_code == 302
    assert results_service.stored.summary(db.session.get(Call, call.id)) is None
    assert zh("The results are being computed") in results_page(client, call)
    assert worker_clock(app)["results"] == 1
    rows = {row.entry: row for row in results_service.stored.rows(db.session.get(Call, call.id))}
    assert rows[entries[1].id].public.score == 2
    _same_as_fresh(call)
    assert "同一账号重复操作" in results_page(client, call)


def test_a_snapshot_whose_inputs_changed_while_it_was_computed_is_thrown_away_and_computed_again(
        app, client, story, transport_organiser, large, monkeypatch):
    call = story["call"]
    log_in(client, transport_organiser.email)
    results_page(client, call)
    write = jobs.progress

    def progress(job_id, stage, done, total, **values):
        write(job_id, stage, done, total, **values)
        if stage == "combine":  # a change committed meanwhile, as a vote voided on another server would be
            jobs.changed([call.id], db.session.connection())
            db.session.commit()

    monkeypatch.setattr(jobs, "progress", progress)
    assert worker_clock(app)["results"] == 0
    assert results_service.stored.summary(db.session.get(Call, call.id)) is None
    assert job(call).state is JobState.QUEUED
    monkeypatch.setattr(jobs, "progress", write)
    assert worker_clock(app)["results"] == 1
    _same_as_fresh(call)


def test_a_computation_that_fails_is_shown_with_a_retry(app, client, story, transport_organiser, large,
                                                        monkeypatch):
    call = story["call"]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    results_page(client, call)
    compute = ranking.compute

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(ranking, "compute", broken)
    assert worker_clock(app)["results"] == 0
    assert job(call).state is JobState.FAILED and "out of memory" in job(call).error
    html = results_page(client, call)
    assert zh("The results could not be computed") in html and "http-equiv" not in html
    assert "out of memory" not in html  # the log has it, not the page
    assert worker_clock(app)["results"] == 0  # a failed one waits for the organisers

    monkeypatch.setattr(ranking, "compute", compute)
    response = post_form(client, page + "/retry", {}, page=page)
    assert response.status_code == 302
    assert job(call).state is JobState.QUEUED
    assert worker_clock(app)["results"] == 1
    assert story["entries"][0].title in results_page(client, call)


def test_a_large_call_is_published_only_once_computed(app, client, story, transport_organiser, large):
    call = story["call"]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    # A form from before the preview was dropped: the request does not compute it, and publishes nothing.
    response = post_form(client, page + "/publish", {"notice_days": 5, "top_n": ""}, page=page)
    assert response.status_code == 302
    assert db.session.get(Call, call.id).results_published_at is None
    assert zh("The results are being computed: publish them once they are ready.") in \
        client.get(page).get_data(as_text=True)
    assert job(call).state is JobState.QUEUED


RESULTS_SUBJECT = "The results of “%(call)s” are published"


def _told(outbox, call) -> list[str]:
    return [m.to for m in outbox if m.subject == zh(RESULTS_SUBJECT, call=call.title)]


def test_publishing_a_large_call_leaves_the_mails_to_the_worker_and_it_tells_each_entrant_once(
        app, client, story, transport_organiser, large, outbox, monkeypatch):
    call, entries, voters = story["call"], story["entries"], story["voters"]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    results_page(client, call)
    worker_clock(app)
    response = post_form(client, page + "/publish", {"notice_days": 5, "top_n": ""}, page=page)
    assert response.status_code == 302
    assert db.session.get(Call, call.id).results_published_at is not None
    assert _told(outbox, call) == []  # nothing rendered in the request
    assert db.session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.kind.in_([MailKind.RESULTS, MailKind.FOLLOWING]))) == 0
    mailing = job(call, JobKind.MAIL)
    assert (mailing.state, mailing.total) == (JobState.QUEUED, len({e.author_id for e in entries}))
    assert zh("The entrants are being told") in results_page(client, call)

    # One entrant a batch; the third batch fails (the database went away): the first two stay told.
    monkeypatch.setattr(publication, "MAIL_BATCH", 1)
    tell = publication.tell_entrants
    batches = []

    def flaky(call, after=0, limit=None):
        batches.append(after)
        if len(batches) == 3:
            raise RuntimeError("connection lost")
        return tell(call, after, limit)

    monkeypatch.setattr(publication, "tell_entrants", flaky)
    assert worker_clock(app)["results_mails"] == 0
    assert job(call, JobKind.MAIL).state is JobState.FAILED and job(call, JobKind.MAIL).done == 2
    assert len(_told(outbox, call)) == 2
    assert zh("The results mails stopped") in results_page(client, call)

    monkeypatch.setattr(publication, "tell_entrants", tell)
    post_form(client, page + "/retry", {}, page=page)
    assert worker_clock(app)["results_mails"] == 1
    assert worker_clock(app)["results_mails"] == 0  # a second pass mails nobody again
    told = _told(outbox, call)
    # the entrants with their feedback, the voters as the call's followers: each once
    assert sorted(told) == sorted({e.author.email for e in entries} | {v.email for v in voters})
    assert job(call, JobKind.MAIL).state is JobState.DONE
    assert zh("The entrants are being told") not in results_page(client, call)


# Queued when the last round closes -------------------------------------------------------------------------------

def _pass_the_close_of(app, round_) -> None:
    """The app's clock moves past the round's closing date: the round closes by time passing, nobody asking."""
    app.config["TEST_CLOCK_OFFSET"] = round_.closes_at - utcnow() + timedelta(minutes=1)


def _reopen(round_) -> None:
    round_.closes_at = utcnow() + timedelta(days=1)
    db.session.commit()


def test_a_large_calls_results_are_computed_when_its_last_round_closes_and_ready_at_the_first_look(
        app, client, story, transport_organiser, large, count_queries):
    call, public, entries = story["call"], story["public"], story["entries"]
    _reopen(public)
    done = worker_clock(app)
    assert (done["results_queued"], done["results"]) == (0, 0)  # voting goes on: nothing to compute yet
    assert job(call) is None

    _pass_the_close_of(app, public)
    done = worker_clock(app)
    assert (done["results_queued"], done["results"]) == (1, 1)  # one pass queues and computes
    assert job(call).state is JobState.DONE
    _same_as_fresh(call)

    log_in(client, transport_organiser.email)
    with count_queries() as queries:
        html = results_page(client, call)
    assert zh("The results are being computed") not in html and "http-equiv" not in html
    assert all(entry.title in html for entry in entries[:3])  # the ranking at once, at the first look
    assert not any("INSERT INTO result_row" in q or "UPDATE results_job" in q for q in queries.statements)

    done = worker_clock(app)
    assert (done["results_queued"], done["results"]) == (0, 0)  # a second pass queues nothing more
    assert db.session.scalar(select(func.count()).select_from(ResultsJob)) == 1


def test_a_small_calls_results_are_not_queued_when_its_rounds_close(app, client, story, transport_organiser):
    call, entries = story["call"], story["entries"]
    done = worker_clock(app)
    assert (done["results_queued"], done["results"]) == (0, 0)
    assert job(call) is None
    log_in(client, transport_organiser.email)
    assert all(entry.title in results_page(client, call) for entry in entries[:3])  # computed in the request
    assert job(call) is None


def test_a_large_call_whose_voting_is_closed_early_is_queued_by_the_organisers_action(
        app, client, story, transport_organiser, large):
    call, public, entries = story["call"], story["public"], story["entries"]
    _reopen(public)
    log_in(client, transport_organiser.email)
    page = f"/console/rounds/{public.id}/close-voting"
    assert post_form(client, page, {}).status_code == 302
    assert job(call).state is JobState.QUEUED  # at once, not at the clock's next turn
    done = worker_clock(app)
    assert (done["results_queued"], done["results"]) == (0, 1)
    assert all(entry.title in results_page(client, call) for entry in entries[:3])


def test_a_round_added_after_a_snapshot_was_computed_is_computed_again_when_it_closes(
        app, client, story, transport_organiser, large):
    call = story["call"]
    assert worker_clock(app)["results_queued"] == 1  # every round over: computed
    later = make_public_round(db.session.get(Call, call.id), transport_organiser, state="upcoming")
    assert results_service.stored.summary(db.session.get(Call, call.id)) is None  # the new round dropped it
    assert worker_clock(app)["results_queued"] == 0  # a round is still to come

    _pass_the_close_of(app, later)
    done = worker_clock(app)
    assert (done["results_queued"], done["results"]) == (1, 1)
    summary = results_service.stored.summary(db.session.get(Call, call.id))
    assert [r.title for r in summary.rounds][-1] == later.title
    assert worker_clock(app)["results_queued"] == 0


def test_the_clock_queues_a_bounded_number_of_calls_a_pass(app, story, transport_commission, transport_organiser,
                                                           large, monkeypatch):
    other = make_call(transport_commission, title="另一个征集")
    approved_entries(other, 3)
    other.closes_at = utcnow() - timedelta(days=2)
    db.session.commit()
    make_round(other, transport_organiser, state="open").closes_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    monkeypatch.setattr(jobs, "QUEUED_PER_PASS", 1)
    assert worker_clock(app)["results_queued"] == 1
    assert worker_clock(app)["results_queued"] == 1
    assert worker_clock(app)["results_queued"] == 0
    assert job(story["call"]) is not None and job(other) is not None


def test_a_preview_dropped_as_json_null_counts_as_no_snapshot(app, story, large):
    """Before the column wrote None as NULL, a dropped preview was stored as JSON's null: the clock asks for it too."""
    call = story["call"]
    db.session.execute(update(Call).where(Call.id == call.id).values(results_snapshot=JSON.NULL))
    db.session.commit()
    assert db.session.scalar(select(Call.id).where(Call.results_snapshot.is_(None))) is None
    assert worker_clock(app)["results_queued"] == 1


def test_a_snapshot_dropped_after_it_was_computed_is_asked_for_by_the_page_not_the_clock(
        app, client, story, transport_commission, transport_organiser, large, count_queries):
    call, public, entries = story["call"], story["public"], story["entries"]
    other = make_call(transport_commission, title="另一个征集")
    make_round(other, transport_organiser)  # open, closing after everything above
    assert worker_clock(app)["results_queued"] == 1
    ballot = db.session.scalar(select(Vote.id).where(Vote.round_id == public.id, Vote.entry_id == entries[1].id,
                                                     Vote.voided_at.is_(None)).order_by(Vote.id))
    log_in(client, transport_organiser.email)
    assert post_form(client, f"/console/rounds/{public.id}/void", {"ballot": [str(ballot)], "reason": "重复"},
                     page=f"/console/rounds/{public.id}/").status_code == 302
    assert results_service.stored.summary(db.session.get(Call, call.id)) is None
    with count_queries() as queries:
        assert worker_clock(app)["results_queued"] == 0  # its rounds ended before it was computed: the clock is done
    assert not any(q.startswith(("INSERT INTO results_job", "UPDATE results_job")) for q in queries.statements)
    assert zh("The results are being computed") in results_page(client, call)
    assert job(call).state is JobState.QUEUED


def test_a_large_call_whose_scoring_is_closed_early_is_queued_and_one_with_a_round_to_come_is_not(
        app, client, transport_commission, transport_organiser, large):
    call = make_call(transport_commission, title="另一个征集")
    approved_entries(call, 3)
    call.closes_at = utcnow() - timedelta(days=1)
    db.session.commit()
    expert = make_round(call, transport_organiser)
    log_in(client, transport_organiser.email)
    assert post_form(client, f"/console/rounds/{expert.id}/close", {}).status_code == 302
    assert job(call).state is JobState.QUEUED

    later = make_call(transport_commission, title="第三个征集")
    approved_entries(later, 3)
    first = make_round(later, transport_organiser)
    first.closes_at = utcnow() + timedelta(hours=2)
    db.session.commit()
    make_round(later, transport_organiser, state="upcoming")
    assert post_form(client, f"/console/rounds/{first.id}/close", {}).status_code == 302
    assert job(later) is None  # its second round is still to come
