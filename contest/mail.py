"""Sending mail in the recipient's language: to the log and an in-process outbox by default, or by SMTP."""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale

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


def send_mail(to: str, locale: str, template: str, **context) -> Mail:
    """Render templates/mail/<template>.txt (first line: subject) in `locale` and send it."""
    with force_locale(locale):
        rendered = render_template(f"mail/{template}.txt", **context)
    subject, _, body = rendered.strip().partition("\n")
    mail = Mail(to=to, subject=subject.strip(), body=body.strip() + "\n", locale=locale)
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "smtp":
        _send_smtp(mail)
    else:
        outbox().append(mail)
        log.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)
    return mail


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
