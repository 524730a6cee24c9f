"""From design to street: the public follow-up pages, and the organisers' page: thin skins over
contest.services.followup."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.extensions import db
from contest.followup import bp
from contest.followup.forms import AdoptForm, PlaceForm, UpdateForm
from contest.localtime import site_zone as _zone
from contest.lookups import public_call
from contest.models import Call, Entry, FollowUp, FollowUpStage
from contest.models.types import utcnow
from contest.permissions import call_staff_required
from contest.services import ServiceError
from contest.services import followup as followup_service
from contest.views import saving

bp.add_app_template_global(list(FollowUpStage), "follow_up_stages")


@bp.app_template_filter("follow_up_stage")
def follow_up_stage(value: str) -> str:
    """The translated label of a stage stored by its value (as on the call's timeline)."""
    try:
        return FollowUpStage(value).label
    except ValueError:
        return value


@bp.route("/from-idea-to-street")
def index():
    return render_template("followup/index.html", groups=followup_service.all_follow_ups())


@bp.route("/calls/<int:call_id>/follow-up")
def call(call_id: int):
    call = public_call(call_id)
    return render_template("followup/call.html", call=call, follow_ups=followup_service.follow_ups_of(call))


def _today() -> date:
    return utcnow().astimezone(_zone()).date()


def _happened_on(day: date) -> datetime:
    """A day as a moment: now for today, noon for another day (a day to come is still in the future)."""
    if day == _today():
        return utcnow()
    return datetime.combine(day, time(12), tzinfo=_zone()).astimezone(ZoneInfo("UTC"))


def _update_form(follow_up: FollowUp) -> UpdateForm:
    return UpdateForm(prefix=f"update-{follow_up.id}", stage=follow_up.stage.value, progress=follow_up.progress,
                      happened_on=_today())


def _place_form(follow_up: FollowUp) -> PlaceForm:
    form = PlaceForm(prefix=f"place-{follow_up.id}")
    if not form.submit.data:  # as it is, unless this very form was sent
        form.fill_location(follow_up)
    return form


def _place(follow_up: FollowUp, form: PlaceForm) -> str:
    if not followup_service.place_built(current_user, follow_up, **form.location()):
        return _("Nothing was changed.")
    return _("The place of “%(title)s” is saved.", title=follow_up.entry.title)


def _photo(form: UpdateForm) -> bytes | None:
    upload = form.photo.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    with upload.stream:
        return upload.read()


@bp.route("/console/calls/<int:call_id>/follow-up", methods=["GET", "POST"])
@call_staff_required
def manage(call: Call):
    follow_ups, next_after = followup_service.page_of_follow_ups(call, request.args.get("after", type=int))
    adopt_form = AdoptForm(prefix="adopt")
    update_forms = {f.id: _update_form(f) for f in follow_ups}
    place_forms = {f.id: _place_form(f) for f in follow_ups}
    posted = None
    if request.method == "POST":
        posted = adopt_form if adopt_form.submit.data else next(
            (form for form in [*update_forms.values(), *place_forms.values()] if form.submit.data), None)
        if posted is None:
            abort(400)
        if posted.validate_on_submit():
            with saving(posted.form_errors) as saved:
                if posted is adopt_form:
                    message = _adopt(call, adopt_form)
                elif isinstance(posted, PlaceForm):
                    message = _place(next(f for f in follow_ups if place_forms[f.id] is posted), posted)
                else:
                    message = _add_update(next(f for f in follow_ups if update_forms[f.id] is posted), posted)
            if saved:
                flash(message, "success")
                return redirect(url_for("followup.manage", call_id=call.id))
    return render_template("followup/manage.html", call=call, follow_ups=follow_ups, adopt_form=adopt_form,
                           awarded=followup_service.awarded_not_adopted(call), next_after=next_after,
                           after=request.args.get("after", type=int), update_forms=update_forms,
                           place_forms=place_forms, posted=posted), \
        (400 if posted is not None else 200)


def _adopt(call: Call, form: AdoptForm) -> str:
    entry = db.session.get(Entry, form.entry_id.data)
    if entry is None or entry.call_id != call.id:
        raise ServiceError(_("No entry of this call has the number %(number)d.", number=form.entry_id.data))
    followup_service.adopt(current_user, entry)
    return _("“%(title)s” is adopted: it is now followed from design to street.", title=entry.title)


def _add_update(follow_up: FollowUp, form: UpdateForm) -> str:
    followup_service.add_update(current_user, follow_up, stage=form.stage_value, progress=form.progress.data,
                                text=form.text.data or "", text_en=form.text_en.data or "",
                                happened_on=_happened_on(form.happened_on.data),
                                upload=_photo(form), image_alt=form.photo_alt.data or "")
    return _("The update of “%(title)s” is saved.", title=follow_up.entry.title)
