"""The open-data API: public, paginated reads of what the site shows everyone, and a mobile client's writes
(an entry with images, a vote) through the same services as the web pages, authenticated by a bearer token."""
from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from contest.api import bp, represent
from contest.api.common import (
    ApiError,
    api_view,
    cursor_arg,
    error_response,
    http_error,
    int_arg,
    json_response,
    page_of,
    seek_page_of,
    token_key,
    token_required,
    token_user,
)
from contest.api.openapi import NAME, VERSION, document
from contest.database import with_retries
from contest.errors import answer_errors_under
from contest.extensions import csrf, db, limiter
from contest.forms import image_slots
from contest.geo import parse_box, parse_point
from contest.lookups import public_round, public_round_and_entry
from contest.models import Call, CallState, Channel, Department, Entry
from contest.models.types import utcnow
from contest.services import calls as call_service
from contest.services import entries as entry_service
from contest.services import map as map_service
from contest.services import public as public_service
from contest.services import results as results_service
from contest.services import rounds as round_service
from contest.services import search
from contest.services.followup import public_follow_ups
from contest.services.statistics import statistics as figures_of
from contest.services.visibility import public_counts, public_entry, public_titles
from contest.submission_limits import submission_limits

# Open data: any site may read it from a browser (no cookie is ever honoured here, so this shares nothing).
READ_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"}

# Errors on an API address, a wrong address under /api/ included, are answered in JSON.
bp.record_once(lambda state: answer_errors_under(state.app, "/api/", http_error, error_response))


def _read(data):
    return json_response(data, headers=READ_HEADERS)


def _published_call(call_id: int, *options) -> Call:
    call = call_service.published_call(call_id, *options)
    if call is None:
        raise ApiError(404)
    return call


# Reads --------------------------------------------------------------------------------------------

@bp.route("/")
@api_view
def index():
    """The front door: where the reads begin, and the document that describes them all."""
    return _read({"name": NAME, "version": VERSION,
                  "openapi": url_for("api.openapi", _external=True),
                  "links": {"calls": url_for("api.calls", _external=True),
                            "follow_ups": url_for("api.follow_ups", _external=True),
                            "statistics": url_for("api.statistics", _external=True)}})


@bp.route("/openapi.json")
@api_view
def openapi():
    return _read(document(url_for("api.openapi", _external=True).removesuffix("/openapi.json")))


@bp.route("/calls")
@api_view
def calls():
    state = request.args.get("state", "")
    if state and state not in {s.value for s in CallState} - {CallState.DRAFT.value}:
        raise ApiError(400, "invalid_parameter", _l("Unknown state."))
    stmt = call_service.public_calls(utcnow(), words=request.args.get("q", "").strip()[:100], state=state,
                                     department_id=int_arg("department", 0, minimum=0),
                                     theme=request.args.get("theme", "").strip()[:40])
    return _read(page_of(stmt.options(*represent.CALL_OPTIONS), "api.calls", represent.calls))


@bp.route("/calls/<int:call_id>")
@api_view
def call(call_id: int):
    call = _published_call(call_id, *represent.CALL_OPTIONS)
    return _read(represent.call(call, public_counts([call.id]).get(call.id, 0)))


@bp.route("/calls/<int:call_id>/entries")
@api_view
def call_entries(call_id: int):
    call = _published_call(call_id)
    cursor, per_page = cursor_arg()
    page = search.public_page(call, request.args.get("q", ""), search.Filters.from_args(request.args), cursor,
                              per_page, *represent.ENTRY_OPTIONS)
    return _read(seek_page_of(page, per_page, "api.call_entries", represent.entries, call_id=call.id))


GEOJSON_PER_PAGE, GEOJSON_MAX_PER_PAGE = 500, 1000


def _walk_asked(call):
    """The walk around `near=lat,lng` (for `minutes`, the site's setting by default) when the request asks for
    one, else None; 400 for a point that is not one."""
    if "near" not in request.args:
        return None
    point = parse_point(request.args["near"])
    if point is None:
        raise ApiError(400, "invalid_parameter", _l("Give near as latitude,longitude of a point in the city."))
    return map_service.near(call, *point, int_arg("minutes", current_app.config["WALK_MINUTES"], minimum=1))


@bp.route("/calls/<int:call_id>/entries.geojson")
@api_view
def call_entries_geojson(call_id: int):
    """The call's public placed entries as GeoJSON; with `near=lat,lng` (and `minutes`), those within the walk,
    nearest first, each with its distance."""
    call = _published_call(call_id)
    walk = _walk_asked(call)
    if walk is not None:
        link = map_service.entry_links()
        return _read({"type": "FeatureCollection",
                      "features": [map_service.feature(n.entry, n.distance_m, link) for n in walk.entries],
                      "near": [walk.lng, walk.lat], "minutes": walk.minutes, "radius_m": round(walk.radius_m),
                      "truncated": walk.more})
    page = int_arg("page", 1)
    per_page = min(int_arg("per_page", GEOJSON_PER_PAGE), GEOJSON_MAX_PER_PAGE)
    pagination = db.paginate(map_service.placed_entries(call), page=page, per_page=per_page, error_out=False,
                             max_per_page=GEOJSON_MAX_PER_PAGE)
    following = url_for("api.call_entries_geojson", call_id=call.id, page=page + 1, per_page=per_page,
                        _external=True) if page * per_page < pagination.total else None
    link = map_service.entry_links()
    return _read({"type": "FeatureCollection",
                  "features": [map_service.feature(e, link=link) for e in pagination.items],
                  "total": pagination.total, "next": following})


@bp.route("/calls/<int:call_id>/built.geojson")
@api_view
def call_built_geojson(call_id: int):
    """The built objects of the call's follow-ups that have a point, as GeoJSON; with `near=lat,lng` (and
    `minutes`), those within the walk, nearest first, each with its distance."""
    call = _published_call(call_id)
    walk = _walk_asked(call)
    if walk is not None:
        return _read({"type": "FeatureCollection",
                      "features": [map_service.built_feature(b.follow_up, b.distance_m) for b in walk.built],
                      "near": [walk.lng, walk.lat], "minutes": walk.minutes, "radius_m": round(walk.radius_m)})
    return _read({"type": "FeatureCollection",
                  "features": [map_service.built_feature(f) for f in map_service.placed_built(call)]})


@bp.route("/calls/<int:call_id>/clusters.geojson")
@api_view
def call_clusters(call_id: int):
    """A viewport of the call's map (`bbox=south,west,north,east`): its public entries grouped into counts."""
    call = _published_call(call_id)
    box = parse_box(request.args.get("bbox", ""))
    if box is None:
        raise ApiError(400, "invalid_parameter", _l("Give bbox as south,west,north,east."))
    link = map_service.entry_links()
    return _read({"type": "FeatureCollection",
                  "features": [map_service.cluster_feature(c, link) for c in map_service.clusters(call, *box)]})


@bp.route("/entries/<int:entry_id>")
@api_view
def entry(entry_id: int):
    entry = public_entry(entry_id, *represent.ENTRY_OPTIONS)
    if entry is None:
        raise ApiError(404)
    return _read(represent.entry(entry))


@bp.route("/calls/<int:call_id>/rounds")
@api_view
def call_rounds(call_id: int):
    call = _published_call(call_id)
    return _read(page_of(round_service.rounds_of(call, *represent.ROUND_OPTIONS), "api.call_rounds",
                         represent.rounds, call_id=call.id))


@bp.route("/calls/<int:call_id>/results")
@api_view
def call_results(call_id: int):
    call = _published_call(call_id, selectinload(Call.prizes))
    snap = results_service.snapshot(call)
    if snap is None:
        raise ApiError(404, "not_published", _l("The results of this call are not published yet."))
    rows, page, pages = results_service.stored.page(call, snap, int_arg("page", 1))
    awards, objections = results_service.awards_of(call), results_service.objections_of(call)
    named = {r.entry for r in rows} | {e for r in rows for e in r.close_to} | set(awards) \
        | {o.entry_id for o in objections if o.entry_id is not None}
    titles = public_titles(call, named)  # merged ones keep their place
    return _read(represent.results(call, snap, rows, titles, awards, objections) | {
        "page": page, "pages": pages,
        "next": url_for("api.call_results", call_id=call.id, page=page + 1, _external=True) if page < pages else None})


def _follow_ups(call_id: int | None = None):
    return public_follow_ups(call_id, *represent.FOLLOW_UP_OPTIONS)


@bp.route("/calls/<int:call_id>/follow-ups")
@api_view
def call_follow_ups(call_id: int):
    call = _published_call(call_id)
    return _read(page_of(_follow_ups(call.id), "api.call_follow_ups", represent.follow_ups, call_id=call.id))


@bp.route("/follow-ups")
@api_view
def follow_ups():
    return _read(page_of(_follow_ups(), "api.follow_ups", represent.follow_ups))


@bp.route("/statistics")
@api_view
def statistics():
    department_id = int_arg("department")
    department = None
    if department_id is not None:
        department = db.session.get(Department, department_id)
        if department is None:
            raise ApiError(404)
    return _read(represent.statistics(figures_of(department)) | {
        "department": represent.department(department)})


# Writes: a bearer token, never a cookie -------------------------------------------------------------

def _flag(name: str) -> bool:
    return request.form.get(name, "").strip().lower() in ("1", "true", "yes", "on", "y")


def _optional_id(name: str) -> int | None:
    value = request.form.get(name, "").strip()
    if value in ("", "0"):
        return None
    if not value.isdigit():
        raise ApiError(400, "invalid_field", _l("“%(name)s” must be a whole number.", name=name))
    return int(value)


def _optional_number(name: str) -> float | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ApiError(400, "invalid_field", _l("“%(name)s” must be a number.", name=name)) from None


def _location() -> dict:
    """Where a mobile entry is: its point (the service checks it and reads its district) and address."""
    return {"lat": _optional_number("lat"), "lng": _optional_number("lng"), "address": request.form.get("address", "")}


@bp.route("/calls/<int:call_id>/entries", methods=["POST"])
@csrf.exempt
@api_view
@token_required
@submission_limits(token_user)
def submit_entry(call_id: int):
    call = _published_call(call_id)
    if not request.mimetype.startswith("multipart/"):
        raise ApiError(415)
    data = entry_service.EntryData(title=request.form.get("title", ""), **_location(),
                                   description=request.form.get("description", ""),
                                   topic_id=_optional_id("topic_id"), place_id=_optional_id("place_id"),
                                   theme_id=_optional_id("theme_id"))
    entry = entry_service.submit_entry(token_user(), call, data, image_slots(), accepted_terms=_flag("accept_terms"),
                                       channel=Channel.MOBILE)
    db.session.commit()
    return json_response({
        "id": entry.id, "call_id": entry.call_id, "title": entry.title, "status": entry.status.value,
        "channel": entry.channel.value, "created_at": represent.moment(entry.created_at),
        "message": _("Thank you: your entry “%(title)s” has been received. We will write to you once it has "
                     "been checked.", title=entry.title),
        "links": {"my_entries": url_for("submit.my_entries", _external=True)},
    }, 201, {"Cache-Control": "no-store"})


def _address() -> str:
    return request.remote_addr or ""


def _vote(round_id: int, entry_id: int, outcome: str, message: str, status: int):
    return json_response({"round_id": round_id, "entry_id": entry_id, "outcome": outcome, "message": message},
                         status, {"Cache-Control": "no-store"})


@bp.route("/rounds/<int:round_id>/votes/<int:entry_id>", methods=["POST"])
@csrf.exempt
@api_view
@token_required
@limiter.limit(lambda: current_app.config["VOTE_LIMIT_PER_ACCOUNT"], key_func=token_key)
@limiter.limit(lambda: current_app.config["VOTE_LIMIT_PER_ADDRESS"])
def cast_vote(round_id: int, entry_id: int):
    user = token_user()
    round_, entry = public_round_and_entry(round_id, entry_id)
    try:
        counted = with_retries(lambda: public_service.cast_vote(user, round_, entry, _address()))
    except public_service.NotEligible as error:
        db.session.rollback()
        raise ApiError(403, "not_eligible", str(error)) from None
    if not counted:  # nothing changed, and that is fine
        return _vote(round_id, entry_id, "already", _("You have already voted for this entry."), 200)
    return _vote(round_id, entry_id, "counted", _("Your vote for “%(title)s” is counted.", title=entry.title), 201)


@bp.route("/rounds/<int:round_id>/votes/<int:entry_id>", methods=["DELETE"])
@csrf.exempt
@api_view
@token_required
@limiter.limit(lambda: current_app.config["VOTE_LIMIT_PER_ACCOUNT"], key_func=token_key)
def take_back_vote(round_id: int, entry_id: int):
    round_ = public_round(round_id)
    entry = db.get_or_404(Entry, entry_id)
    title = entry.title
    with_retries(lambda: public_service.take_back(token_user(), round_, entry))
    return _vote(round_id, entry_id, "taken_back", _("Your vote for “%(title)s” is taken back.", title=title), 200)
