"""Sending mail in the recipient's language: to the log and an in-process outbox by default, or by SMTP.

A mail of a kind (MailKind) honours its recipient's choices: not sent when they turned that kind off, kept in the
outbox table for their daily digest when they chose one (juror mails are time-bound and always go at once).
Account mails (kind None: confirmation, password reset) are always sent.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

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
    if kind is not None and kind is not MailKind.JURY and user is not None and user.mail_digest:
        # In the caller's transaction: the digest holds it only if the change that caused it is committed.
        db.session.add(OutboxMail(to=to, user_id=user.id, locale=locale, kind=kind, subject=mail.subject[:300],
                                  body=mail.body, digest=True))
        return mail
    deliver(mail)
    return mail


def deliver(mail: Mail) -> None:
    """Hand a rendered mail to the configured backend."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "smtp":
        _send_smtp(mail)
    else:
        outbox().append(mail)
        log.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)


def _send_smtp(mail: Mail) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Content-Language"] = mail.locale
    message.set_content(mail.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
