"""The mail outbox and its worker: a mail goes only with the change that caused it, waits while the mail server is
down, loses nothing and goes exactly once when the server is back, whatever number of workers run; and the daily
digest, jurors' reminders and the end of notice periods run from the same worker."""
from __future__ import annotations

import contextvars
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import has_app_context
from sqlalchemy import select

from contest.extensions import db
from contest.mail import send_mail
from contest.models import Assignment, AuditEvent, Channel, Entry, MailKind, Objection, OutboxMail
from contest.models.types import utcnow
from contest.services.entries import EntryData, Upload, moderate, submit_entry
from contest.services.rounds import assign
from contest.worker import LEASE, Delivery, Worker, digest_cutoff, retry_delay, run_clock, send_queued
from tests.helpers import (
    SITE,
    approved_entries,
    count_rows,
    link_in,
    make_call,
    make_juror,
    make_organiser,
    make_round,
    make_user,
    picture_bytes,
    zh,
    zh_n,
)
from tests.smtp_server import SmtpServer


@pytest.fixture
def mail_server(app):
    """An SMTP server on loopback, down (its port closed) until the test starts it; the app's mail goes there."""
    server = SmtpServer().start().stop()
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    yield server
    server.stop()


def in_a_worker(app, task):
    """Run `task` as a worker process would: in contexts of its own, after what the test holds is committed."""
    if has_app_context():
        db.session.commit()

    def work():
        with app.app_context():  # no request: the links of its mails come from the configured address
            return task()

    result = contextvars.Context().run(work)
    if has_app_context():
        db.session.expire_all()
    return result


def worker_pass(app, now: datetime | None = None) -> Delivery:
    return in_a_worker(app, lambda: send_queued(now))


def queue_mails(app, n: int, template: str = "confirm_email") -> list[str]:
    """n account mails, to n addresses, committed to the outbox; returns the addresses."""
    addresses = [f"reader{i}@example.org" for i in range(n)]
    for address in addresses:
        send_mail(address, "zh", template, url="https://city.example.org/account/confirm/x", days=7)
    db.session.commit()
    return addresses


def send_entry(author, call):
    """The entrant sends an entry: the 'received' mail is written in the same transaction (not committed here)."""
    submit_entry(author, call, EntryData(title="海派栏杆"), [Upload(picture_bytes(1), "栏杆")], accepted_terms=True)


def outbox_rows() -> list[OutboxMail]:
    db.session.commit()  # a fresh transaction: see what the workers committed
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


# With the change that causes it ------------------------------------------------------------------

def test_a_mail_of_a_rolled_back_change_is_never_sent_and_a_committed_one_once(app, call, citizen, mail_server):
    mail_server.start()
    send_entry(citizen, call)
    db.session.rollback()  # the submission failed after the mail was written
    assert worker_pass(app) == Delivery(sent=0, failed=0)
    assert count_rows(OutboxMail) == 0 and mail_server.received == []

    send_entry(citizen, call)
    assert mail_server.received == []  # nothing leaves before the commit
    db.session.commit()
    assert worker_pass(app) == Delivery(sent=1, failed=0)
    assert worker_pass(app) == Delivery(sent=0, failed=0)
    [message] = mail_server.received
    assert message["To"] == citizen.email and message["Subject"] == zh("We have received your entry")
    [row] = outbox_rows()
    assert row.sent_at is not None and row.attempts == 0
    assert message["Message-ID"].startswith(f"<outbox.{row.id}.")


# The mail server down, then back -----------------------------------------------------------------

def test_with_the_mail_server_down_a_hundred_notifications_wait_and_each_goes_once_when_it_is_back(
        app, call, transport_organiser, mail_server):
    entries = [Entry(call=call, author=make_user(f"entrant{n}@example.org", name=f"作者{n}"), channel=Channel.PAPER,
                     title=f"作品{n}") for n in range(100)]
    db.session.add_all(entries)
    db.session.commit()
    assert moderate(transport_organiser, entries, approve=True) == 100  # each entrant told, in one transaction
    db.session.commit()
    authors = sorted(entry.author.email for entry in entries)
    assert [(row.kind, row.sent_at) for row in outbox_rows()] == [(MailKind.MODERATED, None)] * 100

    now = utcnow()
    assert worker_pass(app, now) == Delivery(sent=0, failed=100)
    rows = outbox_rows()
    assert {(row.attempts, row.send_after, row.sent_at) for row in rows} == {(1, now + timedelta(minutes=1), None)}
    assert all("refused" in row.last_error.lower() for row in rows), rows[0].last_error
    assert worker_pass(app, now + timedelta(seconds=59)) == Delivery(sent=0, failed=0)  # they wait their minute

    later = now + timedelta(minutes=1)
    assert worker_pass(app, later) == Delivery(sent=0, failed=100)
    assert {(row.attempts, row.send_after) for row in outbox_rows()} == {(2, later + timedelta(minutes=2))}
    assert mail_server.received == []

    mail_server.start()  # the server is back, on the same address
    assert worker_pass(app, later + timedelta(minutes=2)) == Delivery(sent=100, failed=0)
    assert worker_pass(app, later + timedelta(days=1)) == Delivery(sent=0, failed=0)
    ids = mail_server.message_ids()
    assert len(ids) == 100 and len(set(ids)) == 100, "each mail exactly once"
    assert sorted(message["To"] for message in mail_server.received) == authors
    assert {message["Subject"] for message in mail_server.received} == {zh("Your entry is public")}
    assert all(row.sent_at is not None and row.attempts == 2 for row in outbox_rows())


@pytest.mark.real_commits  # two workers in threads, each on a connection of its own
def test_two_workers_at_once_send_each_mail_once(app, mail_server):
    addresses = queue_mails(app, 100)
    mail_server.delay = 0.003  # each mail takes a moment, so that the workers' turns interleave
    mail_server.start()
    start, results, errors = threading.Barrier(2), [], []

    def work():
        try:
            start.wait()
            results.append(send_queued())
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=in_a_worker, args=(app, work)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r.sent for r in results) == 100 and sum(r.failed for r in results) == 0
    assert all(r.sent > 0 for r in results), f"both workers took part: {results}"
    ids = mail_server.message_ids()
    assert len(ids) == 100 and len(set(ids)) == 100
    assert sorted(message["To"] for message in mail_server.received) == sorted(addresses)
    assert all(row.sent_at is not None for row in outbox_rows())


def test_a_worker_that_dies_after_sending_leaves_that_one_mail_to_go_again_with_its_message_id(
        app, mail_server, monkeypatch):
    """The at-least-once edge, the only way a mail goes twice: the server took it, sent_at was never committed."""
    import contest.worker

    queue_mails(app, 1)
    mail_server.start()

    def dies(mail_id):
        raise RuntimeError("the worker's process was killed")

    monkeypatch.setattr(contest.worker, "_mark_sent", dies)
    now = utcnow()
    with pytest.raises(RuntimeError):
        worker_pass(app, now)
    monkeypatch.undo()
    [row] = outbox_rows()
    assert row.sent_at is None  # nothing lost
    if db.engine.dialect.name == "postgresql":  # the claim was rolled back with the transaction: due at once
        assert worker_pass(app, now).sent == 1
    else:  # the claim was committed: due again when its lease ends
        assert worker_pass(app, now + LEASE - timedelta(seconds=1)).sent == 0
        assert worker_pass(app, now + LEASE).sent == 1
    first, second = mail_server.message_ids()
    assert first == second  # a receiver can tell it is the same mail
    assert outbox_rows()[0].sent_at is not None


def test_a_failed_mail_waits_twice_as_long_each_time_up_to_an_hour(app, mail_server):
    assert [retry_delay(n) // timedelta(seconds=1) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    queue_mails(app, 1)
    now, waits = utcnow(), []
    for _ in range(8):
        assert worker_pass(app, now) == Delivery(sent=0, failed=1)
        [row] = outbox_rows()
        waits.append((row.send_after - now) // timedelta(seconds=1))
        now = row.send_after
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert row.attempts == 8 and row.sent_at is None  # never given up


def test_a_refused_recipient_waits_and_the_others_go(app, mail_server):
    addresses = queue_mails(app, 3)
    mail_server.refuse = {addresses[1]}
    mail_server.start()
    assert worker_pass(app) == Delivery(sent=2, failed=1)
    assert sorted(message["To"] for message in mail_server.received) == [addresses[0], addresses[2]]
    refused = next(row for row in outbox_rows() if row.to == addresses[1])
    assert (refused.sent_at, refused.attempts) == (None, 1) and "550" in refused.last_error

    mail_server.refuse = set()
    assert worker_pass(app, refused.send_after) == Delivery(sent=1, failed=0)
    assert sorted(message["To"] for message in mail_server.received) == sorted(addresses)


@pytest.mark.real_commits  # the worker runs in a thread, on a connection of its own
def test_the_worker_keeps_running_through_an_outage_and_stops_when_told(app, mail_server):
    app.config.update(MAIL_RETRY_FIRST_SECONDS=1, WORKER_POLL_SECONDS=0.05)
    addresses = queue_mails(app, 3)
    worker = Worker(app)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: all(row.attempts >= 1 for row in outbox_rows()))
        mail_server.start()
        wait_for(lambda: all(row.sent_at is not None for row in outbox_rows()))
    finally:
        worker.stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert sorted(message["To"] for message in mail_server.received) == sorted(addresses)
    assert worker.delivery.sent == 3 and worker.delivery.failed >= 3


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.05)


def test_the_worker_command_runs_one_pass(app, runner, outbox):
    queue_mails(app, 2)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 mails sent, 0 failed" in result.output
    assert all(mail.headers["Message-ID"].startswith("<outbox.") for mail in outbox)
    assert "0 mails sent" in runner.invoke(args=["worker", "--once"]).output


# What the clock drives -----------------------------------------------------------------------------

def test_the_digest_hour_is_the_last_one_passed_in_the_sites_time_zone(app):
    shanghai = timedelta(hours=8)
    at = lambda hour, minute: datetime(2026, 3, 10, hour, minute, tzinfo=UTC) - shanghai  # noqa: E731
    assert digest_cutoff(at(7, 59)) == at(8, 0) - timedelta(days=1)
    assert digest_cutoff(at(8, 0)) == at(8, 0)
    assert digest_cutoff(at(23, 30)) == at(8, 0)


def test_the_daily_digest_goes_from_the_worker_once_at_its_hour(app, call, citizen, outbox):
    app.config["BASE_URL"] = SITE
    citizen.mail_digest = True
    db.session.commit()
    send_entry(citizen, call)
    db.session.commit()
    written = utcnow()
    hour = digest_cutoff(written + timedelta(days=1))  # the next digest hour after the mail was written

    def clock(now):
        return in_a_worker(app, lambda: run_clock(now))["digests"]

    assert clock(written) == 0 and clock(hour - timedelta(minutes=1)) == 0
    assert [m.to for m in outbox] == []
    assert clock(hour + timedelta(minutes=1)) == 1
    assert clock(hour + timedelta(hours=5)) == 0  # every pass of the day after it: nothing more
    [digest] = outbox
    assert digest.to == citizen.email and zh("We have received your entry") in digest.body
    assert f"{SITE}/account/notifications" in digest.body and "http://localhost" not in digest.body


def test_jurors_with_entries_left_are_reminded_once_a_few_days_before_the_round_closes(
        app, call, transport_organiser, outbox):
    app.config["BASE_URL"] = SITE
    approved_entries(call, 4)
    round_ = make_round(call, transport_organiser, k=2)
    (waiting, _), (_, done_member), (_, reminded_member) = [
        make_juror(round_, f"juror{n}@example.org", name=f"评委{n}") for n in range(3)]
    assign(transport_organiser, round_)
    db.session.commit()
    for assignment in db.session.scalars(select(Assignment).where(Assignment.member_id == done_member.id)):
        assignment.recused_at = utcnow()  # nothing left for this one
    closes = round_.closes_at
    reminded_member.reminded_at = closes - timedelta(days=2, hours=12)  # by the organisers, within the three days
    db.session.commit()

    def clock(now):
        return in_a_worker(app, lambda: run_clock(now))["reminders"]

    assert clock(closes - timedelta(days=4)) == 0
    assert clock(closes - timedelta(days=2)) == 1
    assert clock(closes - timedelta(days=1)) == 0
    assert clock(closes + timedelta(hours=1)) == 0  # closed
    [mail] = [m for m in outbox if m.subject == zh("A reminder from the jury")]  # (each was told of the assignment)
    assert mail.to == waiting.email
    assert link_in(mail, SITE) == f"/jury/rounds/{round_.id}/"
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "round.remind")) == {
        "reminded": 1, "automatic": True}


@pytest.mark.real_commits  # two runs in threads, each on a connection of its own
def test_the_organisers_are_told_once_when_a_notice_period_ends(app, call, transport_organiser, planning_bureau,
                                                                citizen, outbox):
    co_organiser = make_organiser(planning_bureau, "planning@example.org")
    call.co_departments = [planning_bureau]
    finished = make_call(planning_bureau, title="口袋公园")
    published = utcnow()
    for each in (call, finished):
        each.results_published_at, each.notice_ends_at = published, published + timedelta(days=7)
    finished.results_final_at = published + timedelta(days=7)
    db.session.add(Objection(call_id=call.id, author_id=citizen.id, reason="评分有误"))
    db.session.commit()
    ends = call.notice_ends_at
    start, told, errors = threading.Barrier(2), [], []

    def clock(now):
        return in_a_worker(app, lambda: run_clock(now))["notice_periods"]

    def two_workers_at_once(now):
        def work():
            try:
                start.wait()
                told.append(run_clock(now)["notice_periods"])
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=in_a_worker, args=(app, work)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert clock(ends - timedelta(minutes=1)) == 0
    two_workers_at_once(ends + timedelta(minutes=1))
    assert errors == [] and sorted(told) == [0, 1]
    assert clock(ends + timedelta(days=1)) == 0
    mails = sorted(m.to for m in outbox if "planning" in m.to or "transport" in m.to)
    assert mails == [co_organiser.email, transport_organiser.email]
    mail = next(m for m in outbox if m.to == transport_organiser.email)
    assert mail.subject == zh("The notice period of “%(call)s” is over", call=call.title)
    assert zh_n("%(num)d objection is still unanswered: answer it, then make the results final.",
                "%(num)d objections are still unanswered: answer them, then make the results final.", 1) in mail.body
    assert f"/console/calls/{call.id}/results" in mail.body
