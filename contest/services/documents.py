"""The printed documents of a call's results: the notice (公示) for the notice period, which the organisers
download, print and stamp, and a certificate per award, which the entrant downloads from "my entries". Both
are PDF with real text (contest.documents) in the reader's language."""
from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import load_only, selectinload

from contest.documents import pdf_bytes
from contest.extensions import db
from contest.models import Award, Call, Entry, User
from contest.permissions import can_manage_call
from contest.services import ServiceError
from contest.services.results import awards_of, objections_of, snapshot, stored
from contest.services.visibility import public_entries


def notice_pdf(actor: User, call: Call) -> bytes:
    """The results notice: the call, its ranking (as the public page shows it) and awarded entries, how the
    score was made, the notice period's dates, and where and how to object."""
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    snap = snapshot(call)
    if snap is None:
        raise ServiceError(_("Publish the results first."))
    entries = {e.id: e for e in db.session.scalars(
        select(Entry).where(Entry.call_id == call.id, *public_entries(merged=True))
        .options(load_only(Entry.id, Entry.title, Entry.author_name), selectinload(Entry.author)))}
    awards = awards_of(call)
    order = stored.positions(call, awards)
    winners = sorted((entries[i] for i in awards if i in entries),
                     key=lambda e: (awards[e.id].prize.position, order.get(e.id, 0)))
    html = render_template("documents/notice.html", call=call, snap=snap, rows=list(stored.rows(call, shown=True)),
                           entries=entries, awards=awards, winners=winners, objections=len(objections_of(call)),
                           results_url=url_for("public.results", call_id=call.id, _external=True))
    return pdf_bytes(html, _("Results notice of “%(title)s”", title=call.title))


def awarded_entries(user: User) -> set[int]:
    """The user's own entries that hold an award of published results: those that have a certificate."""
    return set(db.session.scalars(
        select(Award.entry_id).join(Entry, Entry.id == Award.entry_id).join(Call, Call.id == Award.call_id)
        .where(Entry.author_id == user.id, Call.results_published_at.is_not(None))))


def certificate_pdf(actor: User, entry: Entry) -> bytes:
    """The certificate of the entry's award, for its author only: the name they chose to show, the prize, the
    call, its departments and the date of the results. LookupError when there is none for this user."""
    if not actor.is_authenticated or entry.author_id != actor.id:
        raise LookupError(entry.id)
    call = entry.call
    award = db.session.scalar(select(Award).where(Award.entry_id == entry.id, Award.call_id == call.id)
                              .options(selectinload(Award.prize)))
    if award is None or call.results_published_at is None:
        raise LookupError(entry.id)
    html = render_template("documents/certificate.html", entry=entry, call=call, award=award,
                           departments=call.departments, date=call.results_final_at or call.results_published_at)
    return pdf_bytes(html, _("Certificate: %(prize)s, “%(title)s”", prize=award.prize.name, title=entry.title))
