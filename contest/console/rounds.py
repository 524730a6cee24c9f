"""Console pages for rounds: configure, invite jurors, assign, follow progress, rank, decide who advances."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import SelectChoice

from contest import pictures
from contest.console import bp
from contest.console.forms import (
    ConfirmForm,
    DecideForm,
    InviteForm,
    PublicRoundForm,
    PublicRoundSettingsForm,
    RoundForm,
    VoidForm,
)
from contest.database import with_retries
from contest.extensions import db
from contest.forms import ActionForm
from contest.i18n import english_list
from contest.localtime import to_local as _to_local
from contest.localtime import to_utc as _to_utc
from contest.models import AdvanceMode, Assignment, Call, PublicMode, Round, RoundKind, RoundState
from contest.models.types import utcnow
from contest.permissions import call_staff_required, can_manage_call
from contest.security import safe_next
from contest.services import ServiceError
from contest.services import entries as entry_service
from contest.services import public as public_service
from contest.services import rounds as round_service
from contest.views import saving


def round_staff_required(view):
    """The route takes `round_id`; it receives the Round as `round_` instead."""

    @wraps(view)
    @login_required
    def wrapper(*args, round_id: int, **kwargs):
        round_ = db.get_or_404(Round, round_id)
        if not can_manage_call(current_user, round_.call):
            abort(403)
        return view(*args, round_=round_, **kwargs)

    return wrapper


def _round_data(form: RoundForm) -> round_service.RoundData:
    return round_service.RoundData(
        title=form.title.data or "", opens_at=_to_utc(form.opens_at.data), closes_at=_to_utc(form.closes_at.data),
        title_en=form.title_en.data or "", criteria_en=round_service.parse_english_criteria(form.criteria_en.data),
        criteria=round_service.parse_criteria(form.criteria.data), scale_low=float(form.scale_low.data),
        scale_high=float(form.scale_high.data), scale_step=float(form.scale_step.data),
        jurors_per_entry=form.jurors_per_entry.data, blind=bool(form.blind.data),
        normalise=bool(form.normalise.data), trim=float(form.trim.data or 0),
    )


@bp.route("/calls/<int:call_id>/rounds/new", methods=["GET", "POST"])
@call_staff_required
def new_round(call: Call):
    form = RoundForm()
    if request.method == "GET":
        start = call.closes_at or utcnow()
        form.opens_at.data, form.closes_at.data = _to_local(start), _to_local(start + timedelta(days=14))
        form.title.data = _("Expert round")
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            round_ = round_service.create_round(current_user, call, _round_data(form))
        if saved:
            flash(_("The round is saved. Now invite its jurors."), "success")
            return redirect(url_for("console.round", round_id=round_.id))
    return render_template("rounds/form.html", form=form, call=call, round=None), (400 if form.errors else 200)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@round_staff_required
def edit_round(round_: Round):
    if round_.kind is RoundKind.PUBLIC:
        return _edit_public_round(round_)
    form = RoundForm(obj=round_) if request.method == "GET" else RoundForm()
    if request.method == "GET":
        form.criteria.data = "\n".join(f"{c.name} | {c.weight} | {c.description}".rstrip(" |")
                                       for c in round_.criteria)
        form.criteria_en.data = english_list([f"{c.name_en} | {c.description_en or ''}".rstrip(" |")
                                              if c.name_en else None for c in round_.criteria])
        form.opens_at.data, form.closes_at.data = _to_local(round_.opens_at), _to_local(round_.closes_at)
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            round_service.update_round(current_user, round_, _round_data(form))
        if saved:
            flash(_("The round is saved."), "success")
            return redirect(url_for("console.round", round_id=round_.id))
    return render_template("rounds/form.html", form=form, call=round_.call, round=round_), \
        (400 if form.errors else 200)


def _source_choices(call: Call) -> list[SelectChoice]:
    """Where a new public round may take its entries from, each with how many it would hold, the latest first."""
    choices = []
    awaited = round_service.awaited_round(call)
    if awaited is not None:
        choices.append(SelectChoice("next", _("The entries “%(round)s” will advance, once it decides",
                                              round=awaited.title)))
    for source in reversed(round_service.decided_rounds(call)):
        n = len(round_service.entries_from(call, source))
        choices.append(SelectChoice(str(source.id), ngettext(
            "The %(num)d entry “%(round)s” advanced", "The %(num)d entries “%(round)s” advanced", n,
            round=source.title)))
    n = len(round_service.entries_from(call, None))
    choices.append(SelectChoice("all", ngettext("Every approved entry of the call (%(num)d now)",
                                                "Every approved entry of the call (%(num)d now)", n)))
    return choices


def _public_round_data(form: PublicRoundSettingsForm, round_: Round | None = None) -> public_service.PublicRoundData:
    data = public_service.PublicRoundData(
        title=form.title.data or "", title_en=form.title_en.data or "", opens_at=_to_utc(form.opens_at.data),
        closes_at=_to_utc(form.closes_at.data), votes_per_citizen=form.votes_per_citizen.data,
        min_account_age_hours=form.min_account_age_hours.data,
        hide_counts=bool(form.hide_counts.data), requires_phone=bool(form.requires_phone.data))
    if isinstance(form, PublicRoundForm):
        data.mode = PublicMode(form.mode.data)
        data.all_approved = form.source.data == "all"
        data.source_round_id = int(form.source.data) if form.source.data.isdigit() else None
    return data


@bp.route("/calls/<int:call_id>/public-rounds/new", methods=["GET", "POST"])
@call_staff_required
def new_public_round(call: Call):
    form = PublicRoundForm()
    form.source.choices = _source_choices(call)
    if request.method == "GET":
        start = call.rounds[-1].closes_at if call.rounds else (call.closes_at or utcnow())
        form.opens_at.data, form.closes_at.data = _to_local(start), _to_local(start + timedelta(days=14))
        form.title.data = _("Public round")
        form.source.data = form.source.choices[0].value
    if form.validate_on_submit():
        try:
            round_ = public_service.create_public_round(current_user, call, _public_round_data(form))
        except ServiceError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            held = public_service.round_holding(round_)
            db.session.commit()
            flash(_("The public round is saved."), "success")
            flash(_("It will hold the entries “%(round)s” advances, once that round decides.",
                    round=held.source.title) if held.source and held.source.decided_at is None else
                  ngettext("It holds %(num)d entry, the one “%(round)s” advanced.",
                           "It holds %(num)d entries, those “%(round)s” advanced.", len(held.entries),
                           round=held.source.title) if held.source else
                  ngettext("It holds %(num)d entry: every approved entry of the call.",
                           "It holds %(num)d entries: every approved entry of the call.", len(held.entries)),
                  "info")
            return redirect(url_for("console.round", round_id=round_.id))
    return render_template("rounds/public_form.html", form=form, call=call, round=None), \
        (400 if form.errors else 200)


def _edit_public_round(round_: Round):
    form = PublicRoundSettingsForm(obj=round_) if request.method == "GET" else PublicRoundSettingsForm()
    if request.method == "GET":
        form.opens_at.data, form.closes_at.data = _to_local(round_.opens_at), _to_local(round_.closes_at)
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            changed = public_service.update_public_round(current_user, round_, _public_round_data(form))
        if saved:
            flash(_("The round is saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("console.round", round_id=round_.id))
    return render_template("rounds/public_form.html", form=form, call=round_.call, round=round_), \
        (400 if form.errors else 200)


def _confirm_page(round_: Round, *, heading: str, message: str, button: str, refusal: str | None = None):
    form = ConfirmForm()
    form.submit.label.text = button
    round_page = url_for("console.round", round_id=round_.id)
    return render_template("console/confirm.html", form=form, heading=heading, message=message, refusal=refusal,
                           crumbs=[(url_for("console.call", call_id=round_.call_id), round_.call.title),
                                   (round_page, round_.title)],
                           back=(round_page, _("Back to the round")))


@bp.route("/rounds/<int:round_id>/close-voting", methods=["GET", "POST"])
@round_staff_required
def close_public_round(round_: Round):
    if round_.kind is not RoundKind.PUBLIC:
        abort(404)
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        with saving() as saved:
            public_service.close_voting_now(current_user, round_)
        if saved:
            flash(_("Voting is closed."), "success")
        return redirect(url_for("console.round", round_id=round_.id))
    refusal = None if round_.state is RoundState.OPEN else _("Voting can only be closed early while it is open.")
    return _confirm_page(
        round_, heading=_("Close voting in “%(round)s” now?", round=round_.title), refusal=refusal,
        message=_("Citizens can no longer vote or take votes back; the counts are shown. The call's timeline says "
                  "that voting closed early. This cannot be undone."), button=_("Close voting now"))


@bp.route("/rounds/<int:round_id>/remove", methods=["GET", "POST"])
@round_staff_required
def remove_round(round_: Round):
    if round_.kind is not RoundKind.PUBLIC:
        abort(404)
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        call_id = round_.call_id
        with saving() as saved:
            public_service.remove_round(current_user, round_)
        if not saved:
            return redirect(url_for("console.round", round_id=round_.id))
        flash(_("The round is removed."), "success")
        return redirect(url_for("console.call", call_id=call_id))
    return _confirm_page(
        round_, heading=_("Remove “%(round)s”?", round=round_.title), refusal=public_service.removal_refused(round_),
        message=_("The round and its settings are deleted; the call's timeline says it was removed. This cannot be "
                  "undone."), button=_("Remove the round"))


@bp.route("/rounds/<int:round_id>/void", methods=["POST"])
@round_staff_required
def void(round_: Round):
    form = VoidForm()
    ids = [int(i) for i in request.form.getlist("ballot") if i.isdigit()]
    if form.validate_on_submit() and ids:
        with saving() as saved:
            changed = public_service.void(current_user, round_, ids, form.reason.data)
        if saved:
            flash(_("%(n)d ballots voided.", n=changed), "success")
    else:
        flash(_("Select ballots and write the reason."), "error")
    return redirect(url_for("console.round", round_id=round_.id))


def _public_round(round_: Round):
    if public_service.standing_stale(round_):
        with_retries(lambda: public_service.refresh_standing(round_))  # this view writes: see STANDING_MAX_AGE
    standings, next_key = public_service.standings(round_, request.args.get("after"))
    bursts = public_service.bursts(round_)
    matrix, wins, shown = [], {}, []
    if round_.public_mode is PublicMode.PAIRWISE:
        scores = public_service.stored_standing(round_)
        best = sorted(scores, key=lambda e: (-scores[e], e))
        shown = best if request.args.get("all") == "win-matrix" else best[:pictures.MATRIX_SHOWN]
        wins = public_service.wins(round_, shown)
    entries = {e.id: e for e in entry_service.entries_by_ids({b.entry_id for b in bursts} | set(shown))}
    if shown:  # the picture draws the top only: the others' titles are never read
        matrix = [(e, entries[e].title if e in entries else f"#{e}") for e in best]
    tallies = public_service.stored_tallies(round_)  # counted with the standing, as of its time
    source = round_service.source_of(round_)
    hours = tallies.hours  # their sum is the ballots counted: not counted twice
    return render_template(
        "rounds/public.html", round=round_, call=round_.call, standings=standings, next_key=next_key,
        first_page=request.args.get("after") is not None, bursts=bursts, entries=entries,
        hours=hours,
        hour_span=(round_.opens_at, min(round_.closes_at, utcnow())),
        burst_marks=[(b.entry_id, b.start, b.count) for b in bursts], matrix=matrix, wins=wins,
        addresses=tallies.addresses, pair_trouble=public_service.pair_trouble(round_),
        voided=public_service.voided_summary(round_), total=sum(h.ballots for h in hours),
        source=source, held=round_service.held_count(round_, source), void_form=VoidForm(),
        action_form=ActionForm())


@bp.route("/rounds/<int:round_id>/")
@round_staff_required
def round(round_: Round):
    if round_.kind is RoundKind.PUBLIC:
        return _public_round(round_)
    progress = round_service.progress(round_)
    cut = request.args.get("cut", type=int) or None
    tally = round_service.ranking(round_, cut=cut)
    entries = {e.id: e for e, _, _ in progress.by_entry}
    decide_form = DecideForm()
    return render_template(
        "rounds/round.html", round=round_, call=round_.call, progress=progress, tally=tally, entries=entries,
        cut=cut, distributions=round_service.distributions(round_), invite_form=InviteForm(),
        juror_marks=[(m.display_name, marks) for m, marks in round_service.juror_marks(round_)],
        action_form=ActionForm(), decide_form=decide_form, steps=round_.scale_marks,
    )


def _act(round_: Round, action, success):
    if ActionForm().validate_on_submit():
        with saving() as saved:
            result = action()
        if saved:
            flash(success(result), "success")
    return redirect(safe_next(request.form.get("back")) or url_for("console.round", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/invite", methods=["POST"])
@round_staff_required
def invite(round_: Round):
    form = InviteForm()
    if form.validate_on_submit():
        with saving() as saved:
            round_service.invite_juror(current_user, round_, form.email.data, form.name.data or "")
        if saved:
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("console.round", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/assign", methods=["POST"])
@round_staff_required
def assign(round_: Round):
    return _act(round_, lambda: round_service.assign(current_user, round_),
                lambda n: _("%(n)d assignments made.", n=n))


@bp.route("/rounds/<int:round_id>/close", methods=["GET", "POST"])
@round_staff_required
def close_round(round_: Round):
    if request.method == "POST":
        return _act(round_, lambda: round_service.close_now(current_user, round_),
                    lambda _result: _("Scoring is closed. Now decide who advances."))
    return _confirm_page(
        round_, heading=_("Close scoring in “%(round)s” now?", round=round_.title),
        refusal=round_service.close_refusal(round_),
        message=_("Jurors can no longer score or change their marks; the round's closing date becomes now, and the "
                  "call's timeline says so. Then you decide who advances. This cannot be undone."),
        button=_("Close scoring now"))


@bp.route("/rounds/<int:round_id>/remind", methods=["POST"])
@round_staff_required
def remind(round_: Round):
    return _act(round_, lambda: round_service.remind(current_user, round_),
                lambda n: _("%(n)d jurors reminded.", n=n))


@bp.route("/rounds/<int:round_id>/entries/<int:entry_id>/one-more", methods=["POST"])
@round_staff_required
def one_more_juror(round_: Round, entry_id: int):
    if not round_service.takes_part(round_, entry_id):  # an entry of no concern to this round is not found here
        abort(404)
    return _act(round_, lambda: round_service.add_juror_to(current_user, round_, entry_id),
                lambda added: _("One more juror assigned.") if added else _("No other juror is free for this entry."))


@bp.route("/rounds/<int:round_id>/assignments")
@round_staff_required
def assignments(round_: Round):
    rows = round_service.assignments_of(round_)
    by_entry: dict[int, list[Assignment]] = {}
    for a in rows:
        by_entry.setdefault(a.entry_id, []).append(a)
    return render_template("rounds/assignments.html", round=round_, call=round_.call, by_entry=by_entry,
                           action_form=ActionForm())


@bp.route("/rounds/<int:round_id>/assignments/<int:assignment_id>/remove", methods=["POST"])
@round_staff_required
def remove_assignment(round_: Round, assignment_id: int):
    assignment = db.get_or_404(Assignment, assignment_id)
    if assignment.round_id != round_.id:  # another round's assignment is not found under this round
        abort(404)
    return _act(round_, lambda: round_service.remove_assignment(current_user, round_, assignment),
                lambda _result: _("Assignment removed."))


@bp.route("/rounds/<int:round_id>/decide", methods=["POST"])
@round_staff_required
def decide(round_: Round):
    form = DecideForm()
    if form.validate_on_submit():
        picked = {int(i) for i in request.form.getlist("entry") if i.isdigit()}
        value = float(form.value.data) if form.value.data is not None else None
        with saving() as saved:
            advanced = round_service.decide(current_user, round_, AdvanceMode(form.mode.data), value, picked)
        if saved:
            flash(_("Decided: %(n)d entries advance.", n=len(advanced)), "success")
    return redirect(url_for("console.round", round_id=round_.id))


