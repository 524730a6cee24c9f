"""Public pages: the home page, the language switch, calls, galleries and entries."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import BigInteger, cast, select
from sqlalchemy.orm import joinedload, load_only, selectinload, undefer
from wtforms import SelectChoice

from contest.display import TEXT_SIZES
from contest.extensions import db, limiter
from contest.models import (
    CHANNEL_LABELS,
    GROUP_LABELS,
    Call,
    CallState,
    Channel,
    Department,
    Entry,
    EntryImage,
    Image,
    ParticipantGroup,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.public.forms import ObjectionForm
from contest.security import safe_next
from contest.services import ServiceError
from contest.services import calls as call_service
from contest.services import public as public_service
from contest.services import results as results_service
from contest.services.entries import can_view_entry
from contest.services.visibility import public_counts, public_entries
from contest.snapshot import Row, Snapshot

bp = Blueprint("public", __name__)

GALLERY_SIZES = (12, 24, 48)


@bp.route("/")
def index():
    now = utcnow()
    calls = db.session.scalars(call_service.public_calls(now, state=CallState.OPEN.value).limit(6)).all()
    return render_template("public/index.html", calls=calls, counts=public_counts([c.id for c in calls]))


@bp.route("/lang/<code>")
def set_language(code: str):
    """Remember the visitor's language in their session; it changes nothing else, so a link will do."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("public.index"))


@bp.route("/privacy")
def privacy():
    return render_template("public/privacy.html")


@bp.route("/text-size/<size>")
def set_text_size(size: str):
    """Remember the visitor's text size in their session, like their language: a link will do."""
    if size not in TEXT_SIZES:
        abort(404)
    session["text_size"] = size
    return redirect(safe_next(request.args.get("next")) or url_for("public.index"))


@bp.route("/calls")
def calls():
    now = utcnow()
    words = request.args.get("q", "").strip()[:100]
    state = request.args.get("state", "")
    theme = request.args.get("theme", "").strip()[:40]
    department_id = request.args.get("department", 0, type=int)
    stmt = call_service.public_calls(now, words=words, state=state, department_id=department_id, theme=theme)
    pagination = db.paginate(stmt.options(selectinload(Call.department)), per_page=20, error_out=False)
    departments = db.session.scalars(
        select(Department).where(Department.id.in_(select(Call.department_id).where(Call.published_at.is_not(None))))
        .order_by(Department.id)
    ).all()
    return render_template(
        "calls/list.html", pagination=pagination, now=now, words=words, state=state, theme=theme,
        department_id=department_id, departments=departments, themes=call_service.all_themes(),
        counts=public_counts([c.id for c in pagination.items]), states=list(CallState)[1:],
    )


def _public_call(call_id: int, *options) -> Call:
    call = db.session.scalars(select(Call).where(Call.id == call_id).options(*options)).unique().first()
    if call is None:
        abort(404)
    if call.published_at is None and not can_manage_call(current_user, call):
        abort(404)
    return call


@bp.route("/calls/<int:call_id>")
def call(call_id: int):
    call = _public_call(call_id)
    if "via" in request.args:  # arrived through a poster's QR code
        from contest.posters.visits import remember

        remember(call, request.args["via"])
    count = public_counts([call.id]).get(call.id, 0)
    from contest.services.followup import count_of
    from contest.services.meetings import meetings_of

    return render_template("calls/call.html", call=call, count=count, timeline=call_service.timeline(call),
                           follow_up_count=count_of(call), meetings=meetings_of(call))


PRIME = 2_147_483_647  # (id * a + b) mod a prime is a permutation of the ids below it


def _gallery_order(call: Call):
    """Newest first; during a public round, an order random for each visitor but stable for them, so that
    no entry wins votes by being first."""
    if public_service.open_public_round(call) is not None:
        if "order_seed" not in session:
            session["order_seed"] = secrets.randbelow(PRIME - 2) + 1
        seed = session["order_seed"]
        a, b = seed, (seed * 7919) % PRIME
        return ((cast(Entry.id, BigInteger) * a + b) % PRIME, Entry.id)
    return (Entry.id.desc(),)


@bp.route("/calls/<int:call_id>/entries")
def gallery(call_id: int):
    call = _public_call(call_id, joinedload(Call.rounds))  # the rounds decide the order
    per_page = request.args.get("per_page", 24, type=int)
    per_page = per_page if per_page in GALLERY_SIZES else 24
    # A card needs the title and the cover's sizes: load only that (descriptions can be long).
    # Merged entries stay reachable by their address, but the gallery shows only the entry kept.
    stmt = (select(Entry).where(Entry.call_id == call.id, *public_entries())
            .options(load_only(Entry.id, Entry.title, Entry.status),
                     selectinload(Entry.pictures).load_only(EntryImage.entry_id, EntryImage.image_id,
                                                            EntryImage.position, EntryImage.alt_text,
                                                            EntryImage.is_scan)
                     .joinedload(EntryImage.image).load_only(Image.id, Image.width, Image.height)
                     .lazyload(Image.files))
            .order_by(*_gallery_order(call)))
    pagination = db.paginate(stmt, per_page=per_page, error_out=False, count=False)
    total = public_counts([call.id]).get(call.id, 0)
    pagination.total = total
    return render_template("calls/gallery.html", call=call, pagination=pagination, per_page=per_page, total=total)


@bp.route("/calls/<int:call_id>/map")
def call_map(call_id: int):
    """The call's placed ideas on a map (drawn by script over the vendored district outlines) and, beside it, the
    same as a list: the newest placed, or with `near=lat,lng` those within a walk of the point, with distances."""
    from contest.geo import parse_point
    from contest.services import map as map_service

    call = _public_call(call_id)
    walk = None
    if request.args.get("near"):
        point = parse_point(request.args["near"])
        if point is None:
            abort(400, _("Give the point as latitude,longitude of a place in the city."))
        walk = map_service.near(call, *point, request.args.get("minutes", type=int))
    pagination = db.paginate(map_service.placed_entries(call), per_page=50, error_out=False) if walk is None else None
    return render_template("calls/map.html", call=call, walk=walk, pagination=pagination,
                           minutes=map_service.walk_minutes(request.args.get("minutes", type=int)),
                           shading=map_service.district_counts(call))


@bp.route("/entries/<int:entry_id>")
def entry(entry_id: int):
    entry = db.session.scalar(
        select(Entry).where(Entry.id == entry_id)
        .options(joinedload(Entry.pictures).joinedload(EntryImage.image).lazyload(Image.files),
                 joinedload(Entry.call), joinedload(Entry.author), joinedload(Entry.topic), joinedload(Entry.place))
    )
    if entry is None or not can_view_entry(current_user, entry):
        abort(404)
    staff = can_manage_call(current_user, entry.call)
    from contest.services.issues import provenance

    return render_template("calls/entry.html", entry=entry, call=entry.call, staff=staff,
                           provenance=provenance(entry, staff=staff))


# Results ----------------------------------------------------------------------------------------

def results_context(call: Call, snap: Snapshot, rows: list[Row]) -> dict:
    """What the results pages need besides the snapshot, in a fixed number of queries."""
    entries = {e.id: e for e in db.session.scalars(
        select(Entry).where(Entry.call_id == call.id, *public_entries(merged=True))
        .options(load_only(Entry.id, Entry.title)))}
    awards = results_service.awards_of(call)
    winners = db.session.scalars(
        select(Entry).where(Entry.id.in_(list(awards)))
        .options(selectinload(Entry.pictures).joinedload(EntryImage.image).lazyload(Image.files))).all()
    order = {r.entry: i for i, r in enumerate(snap.rows)}
    winners = sorted(winners, key=lambda e: (awards[e.id].prize.position, order.get(e.id, 0)))
    return {"call": call, "snap": snap, "rows": rows, "entries": entries, "awards": awards, "winners": winners,
            "objections": results_service.objections_of(call), "group_labels": GROUP_LABELS,
            "channel_labels": CHANNEL_LABELS, "channels": {c.value: c for c in Channel},
            "groups": {g.value: g for g in ParticipantGroup}}


@bp.route("/calls/<int:call_id>/results")
def results(call_id: int):
    call = _public_call(call_id, undefer(Call.results_snapshot), selectinload(Call.prizes))
    snap = results_service.snapshot(call)
    if snap is None:
        abort(404)
    form = ObjectionForm()
    context = results_context(call, snap, results_service.shown_rows(call, snap))
    form.entry_id.choices = [SelectChoice("", _("The results as a whole"))] + [
        SelectChoice(str(r.entry), context["entries"][r.entry].title)
        for r in snap.rows if r.entry in context["entries"]]
    return render_template("results/results.html", form=form,
                           open_for_objections=results_service.in_notice_period(call), **context)


@bp.route("/calls/<int:call_id>/results/objections", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["OBJECTION_LIMIT"], key_func=lambda: f"objection:{current_user.get_id()}")
def file_objection(call_id: int):
    call = _public_call(call_id)
    form = ObjectionForm()
    form.entry_id.choices = None  # any value; the service checks the entry belongs to the call
    if form.validate_on_submit():
        entry_id = int(form.entry_id.data) if (form.entry_id.data or "").isdigit() else None
        try:
            results_service.file_objection(current_user, call, entry_id, form.reason.data or "")
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Your objection is filed. The organisers answer it publicly on this page."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("public.results", call_id=call.id, _anchor="objections"))
