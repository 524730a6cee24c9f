"""Entrants' pages: thin skins over contest.services.entries."""
from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from contest.errors import RETRY_AFTER
from contest.extensions import db
from contest.forms import image_slots, set_entry_choices, undescribed_slots
from contest.models import Call, CallKind, Channel, Entry
from contest.poster_visits import remembered as remembered_poster
from contest.services import ServiceError, Unavailable
from contest.services import documents as document_service
from contest.services import entries as entry_service
from contest.services import issues as issue_service
from contest.services import results as results_service
from contest.submission_limits import submission_limits
from contest.submit import bp
from contest.submit.forms import EditEntryForm, EntryForm, WithdrawForm, speak_for
from contest.tabular import download
from contest.views import saving

log = logging.getLogger(__name__)


def _data(form) -> entry_service.EntryData:
    return entry_service.EntryData(title=form.title.data or "", description=form.description.data or "",
                                   topic_id=form.topic_id.data or None, place_id=form.place_id.data or None,
                                   theme_id=form.theme_id.data or None, **form.location())


def _status(form, unavailable: bool, slot_errors: dict[str, str]) -> tuple[int, dict]:
    """The form's status: 503 with Retry-After when the file storage was out of reach (the form comes back
    with the entrant's text, to send again in a few minutes), 400 when it was refused, 200 to fill it in."""
    if unavailable:
        return 503, {"Retry-After": str(RETRY_AFTER)}
    return (400 if (form.errors or slot_errors) and request.method == "POST" else 200), {}


def _channel() -> Channel:
    # Phones say "Mobi" in their user agent; the figures of a call count entries by channel.
    return Channel.MOBILE if "Mobi" in request.user_agent.string else Channel.WEB


def _submitter():
    return current_user if current_user.is_authenticated else None


def _uploads(prefix: str = "image") -> list[entry_service.Upload]:
    return image_slots(prefix=prefix, held=True) if request.method == "POST" else []


def _hold(form, call: Call, uploads, slots: int, entry: Entry | None = None, prefix: str = "image", first: int = 1):
    """After a refused form, its pictures held for the entrant (entry_service.hold_pictures), so the page shows
    them again instead of asking for them again: (held pictures by slot, messages of refused files). Holding is a
    help, not the answer: when the database refuses it (a busy moment), the form comes back without them."""
    if request.method != "POST" or not uploads or "csrf_token" in form.errors:
        return {}, {}
    try:
        held, errors = entry_service.hold_pictures(current_user, call, uploads, slots=slots, entry=entry,
                                                   prefix=prefix, first=first)
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("the pictures of a refused entry form could not be held: %s", error)
        return {}, {}
    return held, errors


@bp.route("/calls/<int:call_id>/enter", methods=["GET", "POST"])
@login_required
@submission_limits(_submitter)
def enter(call_id: int):
    call = db.get_or_404(Call, call_id)
    if call.published_at is None:
        abort(404)
    form = EntryForm()
    set_entry_choices(form, call)
    speak_for(form, call)
    problem, unavailable = None, False
    try:
        entry_service.check_can_enter(current_user, call)
    except ServiceError as error:
        problem = str(error)
    slot_errors = undescribed_slots(held=True)
    uploads = _uploads()
    # "Look for similar suggestions" sends the form to be shown again with a hint, never to send the entry.
    looking = request.method == "POST" and call.kind is CallKind.IDEA and "similar" in request.form
    similar = None
    if looking:
        similar = issue_service.similar_sent(call, form.title.data or "", form.description.data or "")
    if problem is None and not looking and form.validate_on_submit() and not slot_errors:
        try:
            entry = entry_service.submit_entry(current_user, call, _data(form), uploads,
                                               accepted_terms=form.accept.data, channel=_channel(),
                                               poster=remembered_poster(call))
        except ServiceError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            unavailable = isinstance(error, Unavailable)
        else:
            db.session.commit()
            flash(_("Thank you: your entry “%(title)s” has been received. We will write to you once it has "
                    "been checked.", title=entry.title), "success")
            return redirect(url_for("submit.my_entries"))
    held, file_errors = ({}, {}) if problem or unavailable else _hold(form, call, uploads, slots=call.images_max)
    slot_errors.update(file_errors)
    return render_template("submit/enter.html", call=call, form=form, problem=problem, slot_errors=slot_errors,
                           held=held, design=call.kind is CallKind.DESIGN, similar=similar,
                           sent=entry_service.entries_sent(current_user, call)), *_status(form, unavailable,
                                                                                          slot_errors)


@bp.route("/my/entries")
@login_required
def my_entries():
    entries = entry_service.entries_of_author(current_user)
    return render_template("submit/my_entries.html", entries=entries, withdraw_form=WithdrawForm(),
                           awarded=document_service.awarded_entries(current_user))


@bp.route("/my/entries/<int:entry_id>/certificate.pdf")
@login_required
def certificate(entry_id: int):
    entry = _own_entry(entry_id)
    try:
        body = document_service.certificate_pdf(current_user, entry)
    except LookupError:
        abort(404)
    return download(body, f"certificate-entry-{entry.id}.pdf", "application/pdf")


@bp.route("/my/entries/<int:entry_id>/feedback")
@login_required
def feedback(entry_id: int):
    entry = _own_entry(entry_id)
    try:
        report = results_service.feedback(current_user, entry)
    except ServiceError:
        abort(404)
    return render_template("submit/feedback.html", entry=entry, call=entry.call, report=report)


def _own_entry(entry_id: int) -> Entry:
    entry = db.get_or_404(Entry, entry_id)
    if entry.author_id != current_user.id:
        abort(403)
    return entry


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
@submission_limits(_submitter)
def edit(entry_id: int):
    entry = _own_entry(entry_id)
    call = entry.call
    form = EditEntryForm(obj=entry)
    set_entry_choices(form, call)
    speak_for(form, call)
    if request.method == "GET":
        form.topic_id.data = entry.topic_id or 0
        form.place_id.data = entry.place_id or 0
        form.fill_location(entry)
        form.theme_id.data = entry.theme_id or 0
    problem, unavailable = None, False
    try:
        entry_service.check_open(call)
    except ServiceError as error:
        problem = str(error)
    free_slots = max(call.images_max - len(entry.images), 0)
    alt_texts = {p.id: request.form.get(f"alt-{p.id}", p.alt_text) for p in entry.images}
    remove = {p.id for p in entry.images if request.form.get(f"remove-{p.id}")}
    slot_errors = {f"alt-{p.id}": _("Image %(n)d: describe it in a sentence for people who cannot see it.", n=n)
                   for n, p in enumerate(entry.images, start=1)
                   if request.method == "POST" and p.id not in remove and not alt_texts[p.id].strip()}
    slot_errors.update(undescribed_slots(prefix="new", first=len(entry.images) + 1, held=True))
    uploads = _uploads(prefix="new")
    if problem is None and form.validate_on_submit() and not slot_errors:
        try:
            entry_service.edit_entry(current_user, entry, _data(form), alt_texts, remove, uploads)
        except ServiceError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            unavailable = isinstance(error, Unavailable)
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("submit.my_entries"))
    held, file_errors = ({}, {}) if problem or unavailable else _hold(form, call, uploads, slots=free_slots,
                                                                      entry=entry, prefix="new",
                                                                      first=len(entry.images) + 1)
    slot_errors.update(file_errors)
    return render_template("submit/edit.html", entry=entry, call=call, form=form, problem=problem,
                           slot_errors=slot_errors, free_slots=free_slots, held=held,
                           design=call.kind is CallKind.DESIGN), *_status(form, unavailable, slot_errors)


@bp.route("/entries/<int:entry_id>/withdraw", methods=["POST"])
@login_required
def withdraw(entry_id: int):
    entry = _own_entry(entry_id)
    if WithdrawForm().validate_on_submit():
        with saving() as saved:
            entry_service.withdraw_entry(current_user, entry)
        if saved:
            flash(_("Your entry has been withdrawn."), "success")
    return redirect(url_for("submit.my_entries"))
