"""Public pages: the home page, the language switch, calls, galleries and entries."""
from __future__ import annotations

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, load_only, selectinload

from contest.display import TEXT_SIZES
from contest.extensions import db, limiter
from contest.forms import CommentForm, FollowForm, UnfollowForm
from contest.lookups import public_call
from contest.models import (
    CHANNEL_LABELS,
    Call,
    CallState,
    Entry,
    EntryImage,
    Image,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.public import bp
from contest.public.forms import ObjectionForm
from contest.security import safe_next
from contest.services import ServiceError, following, search
from contest.services import calls as call_service
from contest.services import comments as comment_service
from contest.services import entries as entry_service
from contest.services import public as public_service
from contest.services import results as results_service
from contest.services.entries import can_view_entry
from contest.services.visibility import public_counts
from contest.views import saving

GALLERY_SIZES = (12, 24, 48)
ENTRY_HITS = 10  # entries a search of the calls list shows


@bp.route("/")
def index():
    now = utcnow()
    calls = call_service.first_open_calls(now)
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
    departments = call_service.departments_with_published_calls()
    # The words find entries too, across every call: the first few hits, each linking to its call's search.
    found = search.first_hits(words, ENTRY_HITS) if words else []
    return render_template(
        "calls/list.html", pagination=pagination, now=now, words=words, state=state, theme=theme,
        found=found, query_words=search.query_words(words), highlight=search.highlight,
        department_id=department_id, departments=departments, themes=call_service.all_themes(),
        counts=public_counts([c.id for c in pagination.items]), states=list(CallState)[1:],
    )


def _comments(call: Call, entry: Entry | None) -> dict:
    """What the comments part of a call's or an entry's page needs."""
    page = request.args.get("page", 1, type=int)
    if entry is not None:
        post_url = url_for("comments.comment_on_entry", entry_id=entry.id)
        page_url = lambda n: url_for("public.entry", entry_id=entry.id, page=n, _anchor="comments")  # noqa: E731
    else:
        post_url = url_for("comments.comment_on_call", call_id=call.id)
        page_url = lambda n: url_for("public.call", call_id=call.id, page=n, _anchor="comments")  # noqa: E731
    return {"thread": comment_service.comments_page(current_user, call, entry, max(page, 1)),
            "comment_form": CommentForm(),
            "comments_closed": comment_service.closed_because(call), "post_url": post_url, "page_url": page_url}


@bp.route("/calls/<int:call_id>")
def call(call_id: int):
    call = public_call(call_id)
    if "via" in request.args:  # arrived through a poster's QR code
        from contest.poster_visits import remember

        remember(call, request.args["via"])
    count = public_counts([call.id]).get(call.id, 0)
    from contest.services.followup import count_of
    from contest.services.meetings import meetings_of

    now = utcnow()
    timeline = call_service.timeline(call, now)
    return render_template("calls/call.html", call=call, count=count, timeline=timeline, now=now,
                           journey=call_service.journey(call, timeline, now), follow_up_count=count_of(call),
                           meetings=meetings_of(call), **_comments(call, None),
                           following=following.is_following(current_user, call),
                           follow_form=FollowForm(), unfollow_form=UnfollowForm())


@bp.route("/calls/<int:call_id>/follow", methods=["POST"])
@login_required
def follow(call_id: int):
    return _follow_or_stop(call_id, stop=False)


@bp.route("/calls/<int:call_id>/unfollow", methods=["POST"])
@login_required
def unfollow(call_id: int):
    return _follow_or_stop(call_id, stop=True)


def _follow_or_stop(call_id: int, *, stop: bool):
    """Follow a call by its button, or stop, and back to the page the button was on (the call's, the account's)."""
    call = public_call(call_id)
    form = UnfollowForm() if stop else FollowForm()
    if form.validate_on_submit():
        with saving() as saved:
            (following.stop_following if stop else following.follow)(current_user, call)
        if saved:
            flash(_("You no longer follow “%(call)s”.", call=call.title) if stop else
                  _("You follow this call: we will tell you by e-mail when it opens a round, publishes its "
                    "results, answers an objection or records a follow-up stage."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("public.call", call_id=call.id))


@bp.route("/unfollow/<token>", methods=["GET", "POST"])
def unfollow_by_link(token: str):
    """The link of a mail: stop following a call without logging in. Opening it (a mail client may fetch links
    on its own) only asks; the button does it."""
    try:
        user, call = following.read_unfollow_link(token)
    except ServiceError as error:
        return render_template("auth/message.html", title=_("Stop following a call"), message=str(error)), 400
    form = UnfollowForm()
    if form.validate_on_submit():
        following.stop_following(user, call)
        db.session.commit()
        return render_template("auth/message.html", title=_("Stop following a call"),
                               message=_("You no longer follow “%(call)s”.", call=call.title))
    return render_template("calls/unfollow.html", call=call, form=form,
                           following=following.is_following(user, call))


def _order_seed(call: Call) -> int | None:
    """During a public round, the visitor's seed of the gallery's shuffled order (stable for them, different for
    each); None otherwise (newest first)."""
    if public_service.open_public_round(call) is None:
        return None
    if "order_seed" not in session:
        session["order_seed"] = secrets.randbelow(search.SHUFFLE_PRIME - 2) + 1
    return session["order_seed"]


@bp.route("/calls/<int:call_id>/entries")
def gallery(call_id: int):
    call = public_call(call_id, joinedload(Call.rounds), selectinload(Call.topics))  # the rounds decide the order
    per_page = request.args.get("per_page", 24, type=int)
    per_page = per_page if per_page in GALLERY_SIZES else 24
    query = request.args.get("q", "").strip()[:search.MAX_QUERY]
    filters = search.Filters.from_args(request.args)
    # A card needs the title and the cover's sizes: load only that (descriptions can be long, and are shown in
    # part only beside a search's hits). Merged entries stay reachable by their address, but the gallery shows
    # only the entry kept.
    columns = [Entry.id, Entry.title, Entry.status] + ([Entry.description] if query else [])
    page = search.public_page(
        call, query, filters, search.Cursor.from_args(request.args), per_page,
        load_only(*columns),
        selectinload(Entry.pictures).load_only(EntryImage.entry_id, EntryImage.image_id, EntryImage.position,
                                               EntryImage.alt_text, EntryImage.is_scan)
        .joinedload(EntryImage.image).load_only(Image.id, Image.width, Image.height).lazyload(Image.files),
        seed=_order_seed(call))
    # What every page link keeps: the page's size, the words and the filters.
    kept = {"per_page": per_page if per_page != 24 else None, "q": query or None, **filters.as_args()}

    def page_url(cursor: search.Cursor) -> str:
        return url_for("public.gallery", call_id=call.id, **kept, **cursor.as_args())

    return render_template("calls/gallery.html", call=call, page=page, per_page=per_page, page_url=page_url,
                           cap=search.COUNT_CAP, first=search.FIRST, last=search.LAST,
                           query=query, words=page.words, filters=filters,
                           choices=search.filter_choices(call), channels=CHANNEL_LABELS,
                           highlight=search.highlight)


@bp.route("/calls/<int:call_id>/map")
def call_map(call_id: int):
    """The call's placed ideas on a map (drawn by script over the vendored district outlines) and, beside it, the
    same as a list: the newest placed, or with `near=lat,lng` those within a walk of the point, with distances."""
    from contest.geo import parse_point
    from contest.services import map as map_service

    call = public_call(call_id)
    walk = None
    if request.args.get("near"):
        point = parse_point(request.args["near"])
        if point is None:
            abort(400, _("Give the point as latitude,longitude of a place in the city."))
        walk = map_service.near(call, *point, request.args.get("minutes", type=int))
    pagination = db.paginate(map_service.placed_entries(call), per_page=50, error_out=False) if walk is None else None
    built_points = [{"lat": b.follow_up.lat, "lng": b.follow_up.lng, "title": b.follow_up.entry.title}
                    for b in walk.built] if walk is not None else []
    return render_template("calls/map.html", call=call, walk=walk, pagination=pagination, built_points=built_points,
                           minutes=map_service.walk_minutes(request.args.get("minutes", type=int)),
                           shading=_shading(map_service.district_counts(call)))


def _shading(counts: dict[str, int]) -> dict:
    """The districts' counts and the steps they are shaded by, the same as the statistics page's (contest.pictures)."""
    from contest.pictures import shading_steps

    return {"counts": counts, "steps": shading_steps(max(counts.values(), default=0))}


@bp.route("/entries/<int:entry_id>")
def entry(entry_id: int):
    entry = entry_service.entry_by_id(
        entry_id, joinedload(Entry.pictures).joinedload(EntryImage.image).lazyload(Image.files),
        joinedload(Entry.call), joinedload(Entry.author), joinedload(Entry.topic), joinedload(Entry.place))
    if entry is None or not can_view_entry(current_user, entry):
        abort(404)
    staff = can_manage_call(current_user, entry.call)
    from contest.services.issues import provenance

    return render_template("calls/entry.html", entry=entry, call=entry.call, staff=staff,
                           provenance=provenance(entry, staff=staff), wins=public_service.wins_after_closing(entry),
                           **_comments(entry.call, entry))


# Results ----------------------------------------------------------------------------------------

@bp.route("/calls/<int:call_id>/results")
def results(call_id: int):
    call = public_call(call_id, selectinload(Call.prizes))
    snap = results_service.snapshot(call)
    if snap is None:
        abort(404)
    rows, page, pages = results_service.stored.page(call, snap, request.args.get("page", 1, type=int))
    context = results_service.results_context(call, snap, rows)
    return render_template("results/results.html", form=ObjectionForm(), page=page, pages=pages,
                           open_for_objections=results_service.in_notice_period(call), **context)


@bp.route("/calls/<int:call_id>/results/objections", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["OBJECTION_LIMIT"], key_func=lambda: f"objection:{current_user.get_id()}")
def file_objection(call_id: int):
    call = public_call(call_id)
    form = ObjectionForm()
    if form.validate_on_submit():
        entry_id = int(form.entry_id.data) if (form.entry_id.data or "").strip() else None  # none: the whole
        with saving() as saved:
            results_service.file_objection(current_user, call, entry_id, form.reason.data or "")
        if saved:
            flash(_("Your objection is filed. The organisers answer it publicly on this page."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("public.results", call_id=call.id, _anchor="objections"))
