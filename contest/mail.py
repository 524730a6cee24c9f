"""Sending mail in the recipient's language: to the log and an in-process outbox by default, or by SMTP.

With MAIL_QUEUE on (production, SMTP) a mail is a row of the outbox table, written in the transaction of the change
that causes it: a rolled-back change sends nothing, a committed one is sent by the worker (contest/worker.py),
which retries while the mail server is down. With it off a mail is delivered at once.

A mail of a kind (MailKind) honours its recipient's choices: not sent when they turned that kind off, kept in the
outbox table for their daily digest when they chose one (juror mails are time-bound and always go at once).
Mails without a kind (account mails such as confirmation and password reset, organisers' duties) always go.
A mail about entries goes through send_once_each: one mail per person per event, however many of their entries.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale

from contest.extensions import db
from contest.models import MailKind, OutboxMail, User

log = logging.getLogger(__name__)


@dataclass
class Mail:
    to: str
    subject: str
    body: str
    locale: str
    headers: dict[str, str] = field(default_factory=dict)


def outbox() -> list[Mail]:
    """The mails sent by the log backend, newest last: what development and the tests read."""
    return current_app.extensions.setdefault("contest_outbox", [])


def render_mail(to: str, locale: str, template: str, **context) -> Mail:
    """Render templates/mail/<template>.txt (first line: subject) in `locale`."""
    with force_locale(locale):
        rendered = render_template(f"mail/{template}.txt", **context)
    subject, _, body = rendered.strip().partition("\n")
    return Mail(to=to, subject=subject.strip(), body=body.strip() + "\n", locale=locale)


def send_mail(to: str, locale: str, template: str, *, kind: MailKind | None = None, user: User | None = None,
              **context) -> Mail | None:
    """Render a mail in `locale` and send it, or keep it for the recipient's digest (`user`: their account).

    Returns the mail, or None when the recipient turned this kind of mail off.
    """
    if kind is not None and user is not None and kind.value in (user.mail_off or ()):
        return None
    mail = render_mail(to, locale, template, user=user, **context)
    digest = kind is not None and kind is not MailKind.JURY and user is not None and user.mail_digest
    post(mail, user=user, kind=kind, digest=digest)
    return mail


def send_once_each(news: Iterable[tuple[User, object]], template: str, *, kind: MailKind,
                   per_person: Callable[[User], dict] | None = None, **context) -> list[Mail]:
    """Tell each person once of one event (results published, a round decided, entries moderated or assigned),
    however many of their entries it concerns: `news` pairs a person with one piece of news of theirs, and each
    person's mail renders `template` with the list of their pieces as `news`, in the order given, in their
    language and by their choices (see send_mail), with what `per_person` adds for them (such as their own link
    to stop following a call). The one way a mail about entries goes out; returns the mails sent or held for a
    digest."""
    theirs: dict[int, tuple[User, list]] = {}
    for user, piece in news:
        theirs.setdefault(user.id, (user, []))[1].append(piece)
    sent = (send_mail(user.email, user.locale, template, kind=kind, user=user, news=pieces,
                      **context, **(per_person(user) if per_person else {}))
            for user, pieces in theirs.values())
    return [mail for mail in sent if mail is not None]


def post(mail: Mail, *, user: User | None = None, kind: MailKind | None = None, digest: bool = False) -> None:
    """Send a rendered mail: into the outbox in the caller's transaction when it is queued (or held for a digest),
    so that it goes only if the change that caused it is committed; else at once."""
    if digest or current_app.config["MAIL_QUEUE"]:
        db.session.add(OutboxMail(to=mail.to, user_id=user.id if user is not None else None, locale=mail.locale,
                                  kind=kind, subject=mail.subject[:300], body=mail.body, digest=digest))
    else:
        deliver(mail)


def message_id(mail_id: int, created_at) -> str:
    """The Message-ID of an outbox row: the same at every attempt, so a receiver can tell a resent mail."""
    domain = current_app.config["MAIL_SENDER"].rpartition("@")[2] or "localhost"
    return f"<outbox.{mail_id}.{created_at:%Y%m%d%H%M%S}@{domain}>"


def deliver(mail: Mail) -> None:
    """Hand a rendered mail to the configured backend (the worker keeps one SMTP connection for many)."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "smtp":
        _send_smtp(mail)
    else:
        outbox().append(mail)
        log.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)


def _send_smtp(mail: Mail) -> None:
    with smtp_connection() as smtp:
        smtp.send_message(email_message(mail))


def smtp_connection() -> smtplib.SMTP:
    """A connection to the configured SMTP server, logged in when it needs it."""
    config = current_app.config
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10)
    try:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def email_message(mail: Mail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Content-Language"] = mail.locale
    for name, value in mail.headers.items():
        message[name] = value
    if "Message-ID" not in message:
        message["Message-ID"] = make_msgid(domain=config["MAIL_SENDER"].rpartition("@")[2] or "localhost")
    if "Date" not in message:
        message["Date"] = formatdate(usegmt=True)
    message.set_content(mail.body)
    return message
