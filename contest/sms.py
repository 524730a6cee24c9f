"""Sending a text message (the six-digit codes of a mobile number being added), shaped like contest.mail: a `log`
backend by default, which writes the message to the log and an in-process outbox (what development and the tests
read), or an `http` provider backend configured by settings (SMS_HTTP_URL, SMS_HTTP_TOKEN): a JSON POST of
{"to": "+86...", "text": "..."} with a bearer token, which must answer 2xx within SMS_HTTP_TIMEOUT seconds."""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from flask import current_app

log = logging.getLogger(__name__)


@dataclass
class Sms:
    to: str  # E.164
    text: str


class SmsError(Exception):
    """The provider did not take the message."""


def sms_outbox() -> list[Sms]:
    """The messages sent by the log backend, newest last."""
    return current_app.extensions.setdefault("contest_sms_outbox", [])


def masked(number: str) -> str:
    """A number as a log line may name it: its last two digits."""
    return "*" * max(len(number) - 2, 0) + number[-2:]


def send_sms(to: str, text: str) -> None:
    backend = current_app.config["SMS_BACKEND"]
    if backend == "http":
        _send_http(Sms(to, text))
    else:
        sms_outbox().append(Sms(to, text))
        log.info("sms to %s: %s", masked(to), text)


def _send_http(sms: Sms) -> None:
    config = current_app.config
    request = urllib.request.Request(
        config["SMS_HTTP_URL"], data=json.dumps({"to": sms.to, "text": sms.text}).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {config['SMS_HTTP_TOKEN'] or ''}"})
    try:
        with urllib.request.urlopen(request, timeout=config["SMS_HTTP_TIMEOUT"]) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise SmsError(f"the SMS provider answered {response.status}")
    except (urllib.error.URLError, OSError) as error:
        raise SmsError(f"the SMS provider could not be reached: {error}") from error
    log.info("sms to %s sent through the provider", masked(sms.to))
