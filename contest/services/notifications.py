"""Which mails a person receives and how: their choices, and the daily digest that gathers the held ones."""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from contest.extensions import db
from contest.links import external_url
from contest.mail import post, render_mail
from contest.models import MailKind, OutboxMail, User
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services.audit import record

log = logging.getLogger(__name__)


def set_preferences(actor: User, user: User, receive: Iterable[MailKind], digest: bool) -> None:
    """The kinds of mail `user` receives (the others are turned off), and whether as one daily digest."""
    if actor.id != user.id:
        raise ServiceError(_("You can only change your own e-mail choices."))
    wanted = set(receive)
    off = [kind.value for kind in MailKind if kind not in wanted]
    user.mail_off = off  # a new list, so that the JSON column is seen to change
    user.mail_digest = bool(digest)
    record(actor, "user.mail_preferences", "user", user.id, off=off, digest=user.mail_digest)


def waiting_digest_mails(user: User) -> list[OutboxMail]:
    """The mails held for this person's next digest, oldest first."""
    return list(db.session.scalars(select(OutboxMail).where(
        OutboxMail.user_id == user.id, OutboxMail.digest.is_(True), OutboxMail.sent_at.is_(None))
        .order_by(OutboxMail.created_at, OutboxMail.id)))


def send_digests(now: datetime | None = None) -> int:
    """Send each person one digest, in their language, of the mails held for them that were written before `now`;
    returns how many digests went out (into the outbox, when mail is queued).

    Each person's held mails are claimed by one UPDATE ... WHERE sent_at IS NULL, so two runs at once (or one
    run twice) never send an item twice: a concurrent run waits on the claimed rows, then finds none left.
    With mail queued, the digest is written to the outbox in the claim's transaction and the worker sends it, retrying
    as long as it takes. This commits once per person (unlike the services a page calls): one failed delivery (mail
    not queued) leaves the others sent, and its own items waiting for the next run. Needs no request: the link to the
    choices page is the configured site's.
    """
    now = now or utcnow()
    held = (OutboxMail.digest.is_(True), OutboxMail.sent_at.is_(None), OutboxMail.created_at <= now)
    user_ids = list(db.session.scalars(
        select(User.id).where(User.id.in_(select(OutboxMail.user_id).where(*held)), User.disabled_at.is_(None))
        .order_by(User.id)))
    db.session.commit()  # each claim below starts a fresh transaction (SQLite refuses to upgrade a stale read)
    if not user_ids:
        return 0
    preferences_url = external_url("auth.notifications")
    sent = 0
    for user_id in user_ids:
        claimed = db.session.execute(
            update(OutboxMail).where(OutboxMail.user_id == user_id, *held).values(sent_at=utcnow())
            .returning(OutboxMail.id, OutboxMail.subject, OutboxMail.body, OutboxMail.created_at)
            .execution_options(synchronize_session=False)).all()
        if not claimed:  # another run took them a moment ago
            db.session.rollback()
            continue
        items = sorted(claimed, key=lambda row: (row.created_at, row.id))
        user = db.session.get(User, user_id)
        mail = render_mail(user.email, user.locale, "digest", user=user, items=items, url=preferences_url)
        try:
            post(mail, user=user)
        except (smtplib.SMTPException, OSError) as error:
            db.session.rollback()
            db.session.execute(update(OutboxMail).where(OutboxMail.id.in_([row.id for row in items]))
                               .values(attempts=OutboxMail.attempts + 1, last_error=str(error)[:500])
                               .execution_options(synchronize_session=False))
            db.session.commit()
            log.warning("digest to user %s not sent: %s", user_id, error)
            continue
        db.session.commit()
        sent += 1
    return sent
