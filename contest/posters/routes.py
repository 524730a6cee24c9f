"""The organisers' poster pages: thin skins over contest.services.posters. Posters are for the call's staff; the
address their QR code holds is the call's public page."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from contest.extensions import db
from contest.forms import place_choices
from contest.models import Call, CallState, Poster
from contest.permissions import call_staff_required, can_manage_call
from contest.posters import bp
from contest.posters.forms import PosterForm
from contest.services import posters as poster_service
from contest.views import saving


@bp.route("/console/calls/<int:call_id>/posters", methods=["GET", "POST"])
@call_staff_required
def manage(call: Call):
    form = PosterForm()
    form.place_id.choices = place_choices(_("No particular place"))
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            poster = poster_service.create_poster(current_user, call, label=form.label.data,
                                                  place_id=form.place_id.data or None)
        if saved:
            flash(_("The poster “%(label)s” is ready to print.", label=poster.label), "success")
            return redirect(url_for("posters.manage", call_id=call.id))
    status = 400 if form.errors and request.method == "POST" else 200
    return render_template("posters/manage.html", call=call, form=form, rows=poster_service.posters_of(call),
                           closed=call.state is CallState.CLOSED), status


def _poster(poster_id: int) -> Poster:
    poster = db.get_or_404(Poster, poster_id)
    if not can_manage_call(current_user, poster.call):
        abort(403)
    return poster


@bp.route("/console/posters/<int:poster_id>")
@login_required
def poster(poster_id: int):
    poster = _poster(poster_id)
    return render_template("posters/poster.html", poster=poster, call=poster.call,
                           text=poster_service.poster_text(poster), qr=Markup(poster_service.poster_svg(poster)))


def _file(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/console/posters/<int:poster_id>/poster.png")
@login_required
def png(poster_id: int):
    poster = _poster(poster_id)
    return _file(poster_service.poster_png(poster), "image/png", f"poster-{poster.id}.png")


@bp.route("/console/posters/<int:poster_id>/poster.pdf")
@login_required
def pdf(poster_id: int):
    poster = _poster(poster_id)
    return _file(poster_service.poster_pdf(poster), "application/pdf", f"poster-{poster.id}.pdf")
