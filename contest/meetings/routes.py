"""Meetings and common issues: the organisers' pages and the public meeting page, thin skins over
contest.services.meetings and contest.services.issues."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from contest.extensions import db
from contest.forms import image_slots, place_choices, set_entry_choices, undescribed_slots
from contest.localtime import to_local as _to_local
from contest.localtime import to_utc as _to_utc
from contest.meetings import bp
from contest.meetings.forms import MeetingForm, MergeForm, SuggestionForm, TagForm, UnmergeForm
from contest.models import Call, CallKind, Entry, Meeting, Tag
from contest.models.types import utcnow
from contest.permissions import call_staff_required, can_manage_call
from contest.services import ServiceError
from contest.services import issues as issue_service
from contest.services import meetings as meeting_service
from contest.services.entries import EntryData, entries_by_ids
from contest.services.visibility import public_bylines
from contest.views import saving


def _meeting_form(meeting: Meeting | None = None, posted: bool = True) -> MeetingForm:
    """The meeting form: as posted, or (on a GET, or beside another form that was posted) as the meeting is."""
    fresh = request.method == "GET" or not posted
    form = MeetingForm(formdata=None, obj=meeting) if meeting is not None and fresh else MeetingForm()
    form.place_id.choices = place_choices(_("No particular place"))
    if fresh:
        if meeting is None:
            form.held_at.data = _to_local(utcnow()).replace(second=0, microsecond=0)
        else:
            form.kind.data = meeting.kind.value
            form.held_at.data = _to_local(meeting.held_at)
            form.place_id.data = meeting.place_id or 0
    return form


def _meeting_data(form: MeetingForm) -> meeting_service.MeetingData:
    return meeting_service.MeetingData(
        title=form.title.data or "", kind=form.kind_value, held_at=_to_utc(form.held_at.data),
        place_id=form.place_id.data or None, venue=form.venue.data or "", lat=form.lat.data, lng=form.lng.data,
        attendees=form.attendees.data, organisations=form.organisations.data or "", minutes=form.minutes.data or "",
        title_en=form.title_en.data or "", minutes_en=form.minutes_en.data or "")


@bp.route("/console/calls/<int:call_id>/meetings", methods=["GET", "POST"])
@call_staff_required
def console_list(call: Call):
    form = _meeting_form()
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            meeting = meeting_service.create_meeting(current_user, call, _meeting_data(form))
        if saved:
            flash(_("The meeting “%(title)s” is saved. Add the suggestions raised at it.", title=meeting.title),
                  "success")
            return redirect(url_for("meetings.console_meeting", meeting_id=meeting.id))
    return render_template("meetings/console_list.html", call=call, form=form,
                           meetings=meeting_service.meetings_of(call, public=False)), (400 if form.errors else 200)


def _staff_meeting(meeting_id: int) -> Meeting:
    meeting = meeting_service.meeting_by_id(meeting_id)
    if meeting is None:
        abort(404)
    if not can_manage_call(current_user, meeting.call):
        abort(403)
    return meeting


def _meeting_page(meeting: Meeting, form: MeetingForm, suggestion_form: SuggestionForm, status: int = 200,
                  slot_errors: dict[str, str] | None = None):
    call = meeting.call
    set_entry_choices(suggestion_form, call)
    return render_template("meetings/console_meeting.html", call=call, meeting=meeting, form=form,
                           suggestion_form=suggestion_form, slot_errors=slot_errors or {},
                           design=call.kind is CallKind.DESIGN,
                           suggestions=meeting_service.suggestions_of(meeting, public=False)), status


@bp.route("/console/meetings/<int:meeting_id>", methods=["GET", "POST"])
@login_required
def console_meeting(meeting_id: int):
    meeting = _staff_meeting(meeting_id)
    form = _meeting_form(meeting)
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            changed = meeting_service.update_meeting(current_user, meeting, _meeting_data(form))
        if saved:
            flash(_("The meeting is saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("meetings.console_meeting", meeting_id=meeting.id))
    return _meeting_page(meeting, form, SuggestionForm(prefix="suggestion"), 400 if form.errors else 200)


@bp.route("/console/meetings/<int:meeting_id>/suggestions", methods=["POST"])
@login_required
def add_suggestion(meeting_id: int):
    meeting = _staff_meeting(meeting_id)
    form = SuggestionForm(prefix="suggestion")
    set_entry_choices(form, meeting.call)
    slot_errors = undescribed_slots()
    if form.validate_on_submit() and not slot_errors:
        data = EntryData(title=form.title.data or "", description=form.description.data or "",
                         topic_id=form.topic_id.data or None, place_id=form.place_id.data or None)
        with saving(form.form_errors) as saved:
            entry = meeting_service.add_suggestion(current_user, meeting, data, author_name=form.author_name.data or "",
                                                   uploads=image_slots())
        if saved:
            flash(_("The suggestion “%(title)s” is saved.", title=entry.title), "success")
            return redirect(url_for("meetings.console_meeting", meeting_id=meeting.id, _anchor="suggestions"))
    return _meeting_page(meeting, _meeting_form(meeting, posted=False), form, 400, slot_errors)


@bp.route("/meetings/<int:meeting_id>")
def meeting(meeting_id: int):
    meeting = meeting_service.meeting_by_id(meeting_id, joinedload(Meeting.place))
    if meeting is None or (meeting.call.published_at is None and not can_manage_call(current_user, meeting.call)):
        abort(404)
    suggestions = meeting_service.suggestions_of(meeting)
    return render_template("meetings/meeting.html", meeting=meeting, call=meeting.call,
                           organisations=meeting_service.organisation_lines(meeting.organisations),
                           suggestions=suggestions, bylines=public_bylines(meeting.call, suggestions))


# Common issues ----------------------------------------------------------------------------------

def _issues_page(call: Call, tag_form: TagForm | None = None, merge_form: MergeForm | None = None,
                 status: int = 200):
    issues = issue_service.common_issues(call)
    tag_id = request.args.get("tag", type=int)
    filtered = next((i for i in issues if i.tag.id == tag_id), None)
    after = request.args.get("after", type=int)
    entries, next_after = issue_service.taggable_entries(call, after, filtered.tag.id if filtered else None)
    tag_form = tag_form or TagForm()
    tag_form.tag_id.choices = [SelectChoice(i.tag.id, i.tag.name) for i in issues]
    merged, merged_total = issue_service.merged_entries(call)
    pairs_after = request.args.get("pairs_after")
    similar, next_pairs = issue_service.similar_pairs(call, pairs_after)
    return render_template("meetings/issues.html", call=call, issues=issues, entries=entries, filtered=filtered,
                           after=after, next_after=next_after, tags=issue_service.tags_of(entries),
                           tag_form=tag_form, merge_form=merge_form or MergeForm(prefix="merge"), merged=merged,
                           merged_total=merged_total, similar=similar, pairs_after=pairs_after,
                           next_pairs=next_pairs), status


def _chosen_entries() -> list[Entry]:
    ids = {int(i) for i in request.form.getlist("entry") if i.isdigit()}
    return entries_by_ids(ids)


def _change_tags(call: Call, form: TagForm) -> str:
    entries = _chosen_entries()
    if form.add.data:
        tag = issue_service.tag_entries(current_user, call, entries, form.name.data or "")
        return _("“%(tag)s” is on the selected entries.", tag=tag.name)
    tag = db.session.get(Tag, form.tag_id.data) if form.tag_id.data else None
    if tag is None or tag.call_id != call.id:
        raise ServiceError(_("Choose a tag of this call."))
    name = tag.name
    if form.remove.data:
        issue_service.untag_entries(current_user, call, entries, tag)
        return _("“%(tag)s” is taken off the selected entries.", tag=name)
    issue_service.delete_tag(current_user, call, tag)
    return _("“%(tag)s” is taken off every entry.", tag=name)


@bp.route("/console/calls/<int:call_id>/issues", methods=["GET", "POST"])
@call_staff_required
def issues(call: Call):
    form = TagForm()
    if request.method == "POST":
        if not (form.add.data or form.remove.data or form.delete.data):
            abort(400)
        if form.validate_on_submit():
            with saving(form.form_errors) as saved:
                message = _change_tags(call, form)
            if saved:
                flash(message, "success")
                return redirect(url_for("meetings.issues", call_id=call.id))
    return _issues_page(call, tag_form=form, status=400 if form.errors else 200)


@bp.route("/console/calls/<int:call_id>/issues/merge", methods=["POST"])
@call_staff_required
def merge(call: Call):
    form = MergeForm(prefix="merge")
    if form.validate_on_submit():
        entry = db.session.get(Entry, form.entry_id.data) if form.entry_id.data else None
        into = db.session.get(Entry, form.into_id.data) if form.into_id.data else None
        with saving(form.form_errors) as saved:
            if entry is None or into is None:
                raise ServiceError(_("Choose the entry to merge and the entry it is merged into."))
            if entry.call_id != call.id or into.call_id != call.id:
                raise ServiceError(_("Only entries of the same call can be merged."))
            issue_service.merge(current_user, entry, into, form.reason.data or "")
        if saved:
            flash(_("“%(entry)s” is merged into “%(into)s”.", entry=entry.title, into=into.title), "success")
            return redirect(url_for("meetings.issues", call_id=call.id, _anchor="merged"))
    return _issues_page(call, merge_form=form, status=400)


@bp.route("/console/entries/<int:entry_id>/unmerge", methods=["POST"])
@login_required
def unmerge(entry_id: int):
    entry = db.get_or_404(Entry, entry_id)
    if not can_manage_call(current_user, entry.call):
        abort(403)
    if not UnmergeForm().validate_on_submit():
        abort(400)
    with saving() as saved:
        issue_service.unmerge(current_user, entry)
    if saved:
        flash(_("“%(title)s” is on its own again.", title=entry.title), "success")
    return redirect(url_for("meetings.issues", call_id=entry.call_id, _anchor="merged"))
