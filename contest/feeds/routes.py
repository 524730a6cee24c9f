"""The calendars, the feed, the sitemap and robots.txt: thin skins over contest.services.syndication."""
from __future__ import annotations

from flask import Response, abort, render_template
from flask_babel import gettext as _

from contest.extensions import db
from contest.feeds import bp
from contest.links import external_url
from contest.lookups import public_call
from contest.models import Meeting
from contest.models.types import utcnow
from contest.services import syndication

for name in ("call_card", "entry_card", "results_card", "follow_up_card"):  # the public pages' sharing cards
    bp.add_app_template_global(getattr(syndication, name), f"share_{name}")

CALENDAR = "text/calendar; charset=utf-8"
HOUR = 3600


def _calendar(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = CALENDAR
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.cache_control.public = True
    response.cache_control.max_age = HOUR
    return response


@bp.route("/calls/<int:call_id>/calendar.ics")
def call_calendar(call_id: int):
    call = public_call(call_id)
    if call.published_at is None:  # a draft has no dates to share yet, even for its staff
        abort(404)
    return _calendar(syndication.call_calendar(call), f"call-{call.id}.ics")


@bp.route("/meetings/<int:meeting_id>/calendar.ics")
def meeting_calendar(meeting_id: int):
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or public_call(meeting.call_id).published_at is None:
        abort(404)
    return _calendar(syndication.meeting_calendar(meeting), f"meeting-{meeting.id}.ics")


@bp.route("/calendar.ics")
def calendar():
    return _calendar(syndication.all_calls_calendar(), "calls.ics")


@bp.route("/feed.atom")
def feed():
    items = syndication.feed_items()
    body = render_template("feeds/atom.xml", items=items, updated=items[0].at if items else utcnow(),
                           self_url=external_url("feeds.feed"), home=external_url("public.index"),
                           title=_("People's City Design Calls"))
    response = Response(body, mimetype="application/atom+xml")
    response.cache_control.public = True
    response.cache_control.max_age = HOUR // 4
    return response


@bp.route("/sitemap.xml")
def sitemap():
    body = render_template("feeds/sitemap.xml", lines=syndication.sitemap_lines())
    response = Response(body, mimetype="application/xml")
    response.cache_control.public = True
    response.cache_control.max_age = HOUR
    return response


# Where search engines need not go: pages behind a login, forms, and the API (it has its own document).
PRIVATE_PREFIXES = ("/account/", "/console/", "/admin/", "/jury/", "/my/", "/api/")


@bp.route("/robots.txt")
def robots():
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES), "",
             f"Sitemap: {external_url('feeds.sitemap')}", ""]
    return Response("\n".join(lines), mimetype="text/plain")
