"""Console pages: thin skins over contest.services.calls and contest.services.entries."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.console import bp
from contest.console.forms import CallForm, ModerationForm, PublishForm, StaffEntryForm
from contest.forms import department_choices, image_slots, set_entry_choices, undescribed_slots
from contest.i18n import english_list, split_english
from contest.localtime import to_local as _to_local
from contest.localtime import to_utc as _to_utc
from contest.models import (
    Call,
    CallKind,
    Channel,
    CombineOn,
    Department,
    EntryStatus,
)
from contest.permissions import call_staff_required, department_staff_required, staff_required
from contest.services import ServiceError
from contest.services import calls as call_service
from contest.services import entries as entry_service
from contest.services.accounts import find_user_by_email
from contest.services.departments import ancestors
from contest.services.media import process_uploads, store_image
from contest.views import saving


@bp.route("/")
@staff_required
def index():
    return render_template("console/index.html", departments=current_user.departments)


@bp.route("/<int:department_id>/")
@department_staff_required
def department(department: Department):
    return render_template("console/department.html", department=department, path=ancestors(department),
                           calls=call_service.calls_of_department(department))


def _call_form(call: Call | None = None) -> CallForm:
    form = CallForm(obj=call) if call is not None and request.method == "GET" else CallForm()
    form.co_department_ids.choices = department_choices()
    if request.method == "GET":
        if call is None:
            form.image_formats.data = ["JPEG", "PNG"]
        else:
            form.kind.data = call.kind.value
            form.combine_on.data = call.combine_on.value
            form.themes.data = ", ".join(call.theme_names)
            form.themes_en.data = english_list([t.name_en for t in call.themes], ", ")
            form.topics.data = "\n".join(t.title for t in call.topics)
            form.topics_en.data = english_list([t.title_en for t in call.topics])
            form.prizes.data = "\n".join(f"{p.name} | {p.count} | {p.reward}" for p in call.prizes)
            form.prizes_en.data = english_list(
                [f"{p.name_en} | {p.reward_en or ''}" if p.name_en else None for p in call.prizes])
            form.co_department_ids.data = [d.id for d in call.co_departments]
            form.image_formats.data = list(call.image_formats)
            form.opens_at.data, form.closes_at.data = _to_local(call.opens_at), _to_local(call.closes_at)
    return form


def _call_data(form: CallForm) -> call_service.CallData:
    return call_service.CallData(
        title=form.title.data or "", summary=form.summary.data or "", brief=form.brief.data or "",
        kind=CallKind(form.kind.data), themes=call_service.split_list(form.themes.data),
        topics=[line.strip() for line in (form.topics.data or "").splitlines() if line.strip()],
        prizes=call_service.parse_prizes(form.prizes.data), co_department_ids=form.co_department_ids.data or [],
        image_formats=form.image_formats.data or [], images_min=form.images_min.data,
        images_max=form.images_max.data, image_max_mb=form.image_max_mb.data,
        entries_per_person=form.entries_per_person.data, licence_text=form.licence_text.data or "",
        originality_text=form.originality_text.data or "", opens_at=_to_utc(form.opens_at.data),
        closes_at=_to_utc(form.closes_at.data), cover_alt=form.cover_alt.data or "",
        originals_public=bool(form.originals_public.data),
        expert_weight=form.expert_weight.data if form.expert_weight.data is not None else 100,
        public_weight=form.public_weight.data or 0, combine_on=CombineOn(form.combine_on.data),
        formula_reason=form.formula_reason.data or "",
        title_en=form.title_en.data or "", summary_en=form.summary_en.data or "", brief_en=form.brief_en.data or "",
        licence_text_en=form.licence_text_en.data or "", originality_text_en=form.originality_text_en.data or "",
        themes_en=split_english(form.themes_en.data),
        topics_en=split_english(form.topics_en.data, lines=True),
        prizes_en=call_service.parse_english_prizes(form.prizes_en.data),
    )


def _save_cover(form: CallForm, call: Call) -> None:
    upload = form.cover.data
    if upload and getattr(upload, "filename", ""):
        if not (form.cover_alt.data or "").strip():
            raise ServiceError(_("Describe the cover image for people who cannot see it."))
        processed = process_uploads([upload.read()], formats=("JPEG", "PNG"), max_mb=10)[0]
        call.cover_image = store_image(processed, current_user)


@bp.route("/<int:department_id>/calls/new", methods=["GET", "POST"])
@department_staff_required
def new_call(department: Department):
    form = _call_form()
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            call = call_service.create_call(current_user, department, _call_data(form))
            _save_cover(form, call)
        if saved:
            flash(_("The call is saved as a draft."), "success")
            return redirect(url_for("console.call", call_id=call.id))
    return render_template("console/call_form.html", form=form, department=department, call=None)


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
@call_staff_required
def edit_call(call: Call):
    form = _call_form(call)
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            call_service.update_call(current_user, call, _call_data(form))
            _save_cover(form, call)
        if saved:
            flash(_("The call is saved."), "success")
            return redirect(url_for("console.call", call_id=call.id))
    return render_template("console/call_form.html", form=form, department=call.department, call=call)


@bp.route("/calls/<int:call_id>/")
@call_staff_required
def call(call: Call):
    counts = entry_service.status_counts(call)
    flags = entry_service.open_flag_count(call)
    return render_template("console/call.html", call=call, counts=counts, flags=flags, publish_form=PublishForm(),
                           timeline=call_service.timeline(call))


@bp.route("/calls/<int:call_id>/publish", methods=["POST"])
@call_staff_required
def publish(call: Call):
    if PublishForm().validate_on_submit():
        with saving() as saved:
            call_service.publish_call(current_user, call)
        if saved:
            flash(_("The call is published. It opens and closes by its dates."), "success")
    return redirect(url_for("console.call", call_id=call.id))


@bp.route("/calls/<int:call_id>/moderation", methods=["GET", "POST"])
@call_staff_required
def moderation(call: Call):
    form = ModerationForm()
    if form.validate_on_submit():
        ids = {int(i) for i in request.form.getlist("entry") if i.isdigit()}
        chosen = entry_service.entries_of_call(call, ids)
        if not chosen:
            form.form_errors.append(_("Select at least one entry."))
        else:
            with saving(form.reason.errors) as saved:
                changed = entry_service.moderate(current_user, list(chosen), approve=bool(form.approve.data),
                                                 reason=form.reason.data or "")
            if saved:
                flash(_("%(n)d entries updated.", n=changed), "success")
                return redirect(url_for("console.moderation", call_id=call.id))
    status = request.args.get("status", EntryStatus.SUBMITTED.value)
    status = status if status in {s.value for s in EntryStatus} else EntryStatus.SUBMITTED.value
    entries = entry_service.entries_in_status(call, EntryStatus(status))
    return render_template("console/moderation.html", call=call, form=form, entries=entries, status=status,
                           statuses=list(EntryStatus)), (400 if form.errors else 200)


@bp.route("/calls/<int:call_id>/duplicates")
@call_staff_required
def duplicates(call: Call):
    return render_template("console/duplicates.html", call=call,
                           pairs=entry_service.duplicate_pairs(current_user, call))


@bp.route("/calls/<int:call_id>/enter", methods=["GET", "POST"])
@call_staff_required
def staff_entry(call: Call):
    form = StaffEntryForm()
    set_entry_choices(form, call)
    slot_errors = undescribed_slots() | undescribed_slots(prefix="scan")
    if form.validate_on_submit() and not slot_errors:
        author = None
        if form.author_email.data:
            author = find_user_by_email(form.author_email.data)
            if author is None:
                form.author_email.errors.append(_("No account has this e-mail address. Leave it empty and give "
                                                  "the entrant's name instead."))
        if not form.errors:
            data = entry_service.EntryData(title=form.title.data, description=form.description.data or "",
                                           topic_id=form.topic_id.data or None, place_id=form.place_id.data or None,
                                           **form.location())
            with saving(form.form_errors) as saved:
                entry = entry_service.staff_entry(
                    current_user, call, channel=Channel(form.channel.data), data=data,
                    uploads=image_slots(), scans=image_slots(prefix="scan"),
                    author=author, author_name=form.author_name.data or "")
            if saved:
                flash(_("The entry “%(title)s” is saved.", title=entry.title), "success")
                return redirect(url_for("console.staff_entry", call_id=call.id))
    return render_template("console/staff_entry.html", call=call, form=form, slot_errors=slot_errors,
                           design=call.kind is CallKind.DESIGN), (400 if form.errors or slot_errors else 200)


from contest.console import exports as _exports  # noqa: E402,F401  (registers the CSV exports on this blueprint)
from contest.console import results as _results  # noqa: E402,F401  (registers the results pages on this blueprint)
from contest.console import rounds as _rounds  # noqa: E402,F401  (registers the round pages on this blueprint)
