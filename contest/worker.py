"""The worker (`flask --app wsgi worker`): sends the outbox's mail, retrying while the mail server is down, and runs
what the clock drives: the daily digest, jurors' reminders before a round closes, notice periods that ended, the
results of large calls computed once their last round ends and their entrants told of the publication
(contest/services/results/jobs.py).

Any number of workers may run at once, on one server or several: each mail and each clock-driven task is claimed
in the database by one of them.

Claiming a mail. One statement takes the next due row and moves its send_after a lease ahead:

    UPDATE outbox_mail SET send_after = :now + lease
     WHERE id = (SELECT id FROM outbox_mail WHERE <due> ORDER BY send_after, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       AND <due> RETURNING ...

On PostgreSQL the transaction stays open while the mail is sent: the row's lock keeps every other worker off it
(SKIP LOCKED: they take the next row rather than wait), and sent_at is written and committed in that same
transaction, so the lease is never even seen. On SQLite, which has no row locks and one writer at a time, the claim
commits at once (holding the database's write lock through an SMTP conversation would stall the whole site) and the
lease keeps the other workers off the row until sent_at is committed.

Exactly once, as far as a mail server allows: sent_at is committed as soon as the server has accepted the mail, so
in the normal path each mail goes once, and never from two workers. The at-least-once edge: a worker that dies, or
loses its database, after the server accepted a mail and before sent_at is committed leaves that one mail due; it
goes again (on PostgreSQL at once, the transaction having rolled back; on SQLite when the lease ends) with the same
Message-ID, so that a receiver can tell. Nothing is dropped: a failed attempt is counted in attempts, its error kept
in last_error, and the mail waits in send_after, the wait doubling from MAIL_RETRY_FIRST_SECONDS to at most
MAIL_RETRY_MAX_SECONDS, for as long as it takes.
"""
from __future__ import annotations

import logging
import smtplib
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from flask import Flask, current_app
from sqlalchemy import select, update

from contest.extensions import db
from contest.localtime import site_zone
from contest.mail import Mail, deliver, email_message, message_id, smtp_connection
from contest.models import OutboxMail
from contest.models.types import utcnow

log = logging.getLogger(__name__)

# Longer than any one SMTP conversation can last (each step times out after 10 s), so that on SQLite no other
# worker takes a mail while it is being sent.
LEASE = timedelta(minutes=15)
CLOCK_SECONDS = 60  # how often the clock-driven tasks look for work
PASS_LIMIT = 1000  # mails per pass, so that the clock-driven tasks run even under a long queue


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """How long a mail waits after its `attempts`-th failure: doubling from the first delay, up to the most."""
    config = current_app.config
    first, most = config["MAIL_RETRY_FIRST_SECONDS"], config["MAIL_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(most, first * 2 ** min(max(attempts, 1) - 1, 30)))


class Postman:
    """Delivers the mails of one pass over one SMTP connection, opened at the first mail and reused.

    Once the server cannot be reached, the rest of the pass fails at once with the same error rather than each mail
    waiting out its own connection timeout: every due mail still has its attempt counted and its wait doubled.
    """

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: str | None = None

    def send(self, mail: Mail) -> str | None:
        """None when the mail was handed over, else why not."""
        if current_app.config["MAIL_BACKEND"] != "smtp":
            deliver(mail)
            return None
        if self.unreachable:
            return self.unreachable
        if self.smtp is None:
            try:
                self.smtp = smtp_connection()
            except (smtplib.SMTPException, OSError) as error:
                self.unreachable = _describe(error)
                return self.unreachable
        try:
            self.smtp.send_message(email_message(mail))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            return _describe(error)  # this mail was refused; the connection serves the next one
        except (smtplib.SMTPException, OSError) as error:
            self.close()  # the connection broke: the next mail opens a new one
            return _describe(error)
        return None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def send_queued(now: datetime | None = None, limit: int = PASS_LIMIT,
                stop: threading.Event | None = None) -> Delivery:
    """Send the outbox's due mails, one claimed row at a time, until none is due (or `limit` were tried).

    `now` (for tests) is the moment at which mails are due and from which a failed one waits.
    """
    db.session.commit()  # each claim starts a fresh transaction (SQLite refuses to upgrade a stale read)
    postman, done = Postman(), Delivery()
    try:
        while done.sent + done.failed < limit and not (stop is not None and stop.is_set()):
            moment = now or utcnow()
            row = _claim(moment)
            if row is None:
                break
            mail = Mail(to=row.to, subject=row.subject, body=row.body, locale=row.locale, headers={
                "Message-ID": message_id(row.id, row.created_at), "Date": format_datetime(row.created_at)})
            try:
                error = postman.send(mail)
            except Exception as unexpected:  # noqa: BLE001 - a mail that cannot be sent must not block the rest
                log.exception("mail %s could not be sent", row.id)
                error = _describe(unexpected)
            if error is None:
                _mark_sent(row.id)
                done.sent += 1
            else:
                _postpone(row.id, row.attempts + 1, moment, error)
                done.failed += 1
    finally:
        db.session.rollback()  # a claim left open by an error above ends here (its row is due again)
        postman.close()
    return done


def _claim(now: datetime):
    due = (OutboxMail.sent_at.is_(None), OutboxMail.digest.is_(False), OutboxMail.send_after <= now)
    next_due = (select(OutboxMail.id).where(*due).order_by(OutboxMail.send_after, OutboxMail.id).limit(1)
                .with_for_update(skip_locked=True).scalar_subquery())
    row = db.session.execute(
        update(OutboxMail).where(OutboxMail.id == next_due, *due).values(send_after=now + LEASE)
        .returning(OutboxMail.id, OutboxMail.to, OutboxMail.locale, OutboxMail.subject, OutboxMail.body,
                   OutboxMail.created_at, OutboxMail.attempts)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        db.session.rollback()
    elif db.session.get_bind().dialect.name != "postgresql":
        db.session.commit()  # no row locks: the lease is the claim
    return row


def _mark_sent(mail_id: int) -> None:
    marked = db.session.execute(
        update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None)).values(sent_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not marked:  # only if a lease ran out while the mail was being sent: say so
        log.warning("mail %s was sent by another worker too", mail_id)


def _postpone(mail_id: int, attempts: int, now: datetime, error: str) -> None:
    wait = retry_delay(attempts)
    db.session.execute(
        update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None))
        .values(attempts=attempts, last_error=error, send_after=now + wait)
        .execution_options(synchronize_session=False))
    db.session.commit()
    log.warning("mail %s not sent (attempt %d), trying again in %s: %s", mail_id, attempts, wait, error)


# What the clock drives --------------------------------------------------------------------------

def digest_cutoff(now: datetime) -> datetime:
    """The latest DIGEST_HOUR o'clock, in the site's time zone, at or before `now`: a digest holds what was written
    before it, so that running the digest at every pass sends each person one a day."""
    zone = site_zone()
    local = now.astimezone(zone)
    cutoff = local.replace(hour=current_app.config["DIGEST_HOUR"], minute=0, second=0, microsecond=0)
    if cutoff > local:
        cutoff -= timedelta(days=1)
    return cutoff.astimezone(UTC)


def run_clock(now: datetime | None = None) -> dict[str, int]:
    """The clock-driven tasks, each claimed in the database so that workers running at once do it once.

    Their mails go into the outbox with their claims; their links are the configured site's (contest/links.py).
    """
    from contest.services.following import tell_rounds_opened
    from contest.services.notifications import send_digests
    from contest.services.pending_uploads import purge_expired
    from contest.services.public import refresh_open_standings
    from contest.services.results import compute_queued, jobs, mail_queued, tell_notice_periods_over
    from contest.services.rounds import remind_before_closing

    now = now or utcnow()
    return {
        "digests": send_digests(digest_cutoff(now)),
        "reminders": remind_before_closing(now),
        "notice_periods": tell_notice_periods_over(now),
        "rounds_opened": tell_rounds_opened(now),
        "held_pictures": _committed(purge_expired(now)),
        "standings": refresh_open_standings(now),
        "results_queued": jobs.queue_due(now),  # first: computed in this same pass
        "results": compute_queued(now),
        "results_mails": mail_queued(now),
    }


def _committed(count: int) -> int:
    db.session.commit()
    return count


class Worker:
    """The loop: the clock-driven tasks once a minute, then every due mail, then a rest when nothing is left."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stop = threading.Event()  # set by SIGTERM: the mail being sent is finished and marked first
        self.delivery = Delivery()

    def run(self, once: bool = False) -> Delivery:
        next_clock = 0.0
        while not self.stop.is_set():
            busy = False
            try:
                with self.app.app_context():  # no request: the mails link to the configured BASE_URL
                    if once or time.monotonic() >= next_clock:
                        next_clock = time.monotonic() + CLOCK_SECONDS
                        done = run_clock()
                        if any(done.values()):
                            log.info("clock: %s", done)
                    delivery = send_queued(stop=self.stop)
                self.delivery.sent += delivery.sent
                self.delivery.failed += delivery.failed
                busy = delivery.sent + delivery.failed >= PASS_LIMIT
            except Exception:
                if once:
                    raise
                # The database or the mail server may be away for a while: nothing is lost, try again later.
                log.exception("worker pass failed")
            if once:
                break
            if not busy:
                self.stop.wait(self.app.config["WORKER_POLL_SECONDS"])
        return self.delivery
