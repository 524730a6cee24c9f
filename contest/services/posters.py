"""Posters of a call, for red mailboxes and community centres: where each hangs, the address its QR code holds,
the entries that came through it, and the printable poster itself."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from contest import poster_art
from contest.extensions import db
from contest.links import external_url
from contest.localtime import site_zone
from contest.models import Call, CallState, Department, Entry, EntryStatus, Poster, User
from contest.permissions import can_manage_call
from contest.services import ServiceError
from contest.services.audit import record

log = logging.getLogger(__name__)


@dataclass
class PosterRow:
    poster: Poster
    url: str
    entries: int  # received through the poster's code (withdrawn ones left out)
    approved: int


def create_poster(actor: User, call: Call, *, label: str, place_id: int | None = None) -> Poster:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    if call.state is CallState.CLOSED:
        raise ServiceError(_("This call is closed: a poster would send people to a call they can no longer "
                             "enter."))
    label = (label or "").strip()
    if not label:
        raise ServiceError(_("Say where the poster will hang."))
    if len(label) > 200:
        raise ServiceError(_("Say where the poster hangs in at most 200 characters."))
    if place_id is not None and db.session.get(Department, place_id) is None:
        raise ServiceError(_("Unknown place."))
    poster = Poster(call=call, label=label, place_id=place_id, created_by_id=actor.id)
    db.session.add(poster)
    db.session.flush()
    record(actor, "poster.create", "poster", poster.id, call_id=call.id, label=label)
    return poster


def poster_url(poster: Poster) -> str:
    """The call's public page with the poster's code: what the QR code holds (a full address)."""
    return external_url("public.call", call_id=poster.call_id, via=poster.code)


def find_poster(call: Call, code) -> Poster | None:
    """The poster of this call with this code; None for anything else (a typo, another call's code)."""
    if not isinstance(code, str) or not 0 < len(code) <= 16:
        return None
    return db.session.scalar(select(Poster).where(Poster.code == code, Poster.call_id == call.id))


def posters_of(call: Call) -> list[PosterRow]:
    """The call's posters, oldest first, each with the entries that arrived through it (two queries)."""
    posters = db.session.scalars(select(Poster).where(Poster.call_id == call.id)
                                 .options(joinedload(Poster.place)).order_by(Poster.id)).all()
    counts = {poster_id: (received, approved) for poster_id, received, approved in db.session.execute(
        select(Entry.poster_id,
               func.count(case((Entry.status != EntryStatus.WITHDRAWN, 1))),
               func.count(case((Entry.status == EntryStatus.APPROVED, 1))))
        .where(Entry.call_id == call.id, Entry.poster_id.is_not(None))
        .group_by(Entry.poster_id))}
    return [PosterRow(p, poster_url(p), *counts.get(p.id, (0, 0))) for p in posters]


# The poster itself ------------------------------------------------------------------------------

def _local(value: datetime) -> str:
    return value.astimezone(site_zone()).strftime("%Y-%m-%d %H:%M")


def poster_text(poster: Poster) -> poster_art.PosterText:
    """What the poster says, in the language of the page that asks for it."""
    call = poster.call
    dates = f"{_local(call.opens_at)} – {_local(call.closes_at)}" if call.opens_at and call.closes_at else ""
    return poster_art.PosterText(
        brand=_("People's City Design Calls"),
        title=call.title,
        dates_label=_("Open for entries (Shanghai time):") if dates else "",
        dates=dates,
        summary=call.summary or "",
        scan=_("Scan the code to read the call and send your entry"),
        url=poster_url(poster),
        department=" / ".join(d.display_name for d in call.departments),
        label=" · ".join(part for part in (poster.place.display_name if poster.place else "", poster.label) if part),
    )


def poster_font() -> str | None:
    """The CJK font: the setting CONTEST_POSTER_FONT, or the first found on the system; None and a warning
    when there is none (the poster then prints its Latin text only)."""
    configured = current_app.config.get("POSTER_FONT")
    path = poster_art.find_cjk_font(configured)
    if path is None:
        log.warning("No CJK font %s: posters show their QR code, address and Latin text only. Install "
                    "fonts-wqy-microhei or set CONTEST_POSTER_FONT.",
                    f"at {configured}" if configured else "found in the usual places")
    return path


def poster_png(poster: Poster) -> bytes:
    return poster_art.png_bytes(poster_art.draw_poster(poster_text(poster), poster_font()))


def poster_pdf(poster: Poster) -> bytes:
    text = poster_text(poster)
    return poster_art.pdf_bytes(poster_art.draw_poster(text, poster_font()), title=text.title)


def poster_svg(poster: Poster) -> str:
    return poster_art.qr_svg(poster_url(poster), title=_("QR code: %(url)s", url=poster_url(poster)))
