"""Jurors' pages: thin skins over contest.services.rounds. In a blind round nothing here names an entrant."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from contest.extensions import db
from contest.forms import ActionForm
from contest.jury import bp
from contest.jury.forms import RecuseForm, ScoreForm
from contest.models import Assignment, Round, RoundMember
from contest.services import ServiceError
from contest.services import rounds as round_service
from contest.views import saving


@bp.route("/")
@login_required
def index():
    members = round_service.memberships_of(current_user)
    return render_template("jury/index.html", members=members)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    try:
        member = round_service.member_for_invitation(token)
    except ServiceError as error:
        return render_template("auth/message.html", title=_("Invitation to judge"), message=str(error)), 400
    form = ActionForm()
    if current_user.is_authenticated and form.validate_on_submit():
        with saving() as saved:
            round_service.accept_invitation(current_user, token)
        if saved:
            flash(_("Welcome to the jury. The entries assigned to you are listed below."), "success")
            return redirect(url_for("jury.round", round_id=member.round_id))
    return render_template("jury/invitation.html", member=member, form=form)


def _member(round_id: int) -> tuple[Round, RoundMember]:
    round_ = db.get_or_404(Round, round_id)
    member = round_service.juror_of(current_user, round_)
    if member is None:
        abort(403)
    return round_, member


@bp.route("/rounds/<int:round_id>/")
@login_required
def round(round_id: int):
    round_, member = _member(round_id)
    assignments = round_service.juror_list(member)
    done = sum(1 for a in assignments if a.score is not None and a.score.submitted_at is not None)
    return render_template("jury/round.html", round=round_, member=member, assignments=assignments, done=done)


def _assignment(assignment_id: int) -> tuple[Assignment, RoundMember]:
    """The juror's assignment, while it lets them judge its entry (404 if there is none, 403 if not theirs)."""
    assignment = round_service.current_assignment(current_user, assignment_id)
    if assignment is None:
        abort(404 if db.session.get(Assignment, assignment_id) is None else 403)
    member = db.session.get(RoundMember, assignment.member_id)
    return assignment, member


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
@login_required
def score(assignment_id: int):
    assignment, member = _assignment(assignment_id)
    round_ = member.round
    form = ScoreForm()
    status = 200
    if form.validate_on_submit():
        marks = {c.id: request.form.get(f"mark-{c.id}", "") for c in round_.criteria}
        version = int(form.version.data) if (form.version.data or "").isdigit() else None
        try:
            round_service.save_score(member, assignment, marks, form.note_to_organisers.data or "",
                                     form.note_to_entrant.data or "", submit=bool(form.submit.data),
                                     version=version)
        except (round_service.ScoreConflict, round_service.RoundNotOpen) as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            status = 409
        except ServiceError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            flash(_("Score submitted.") if form.submit.data else _("Draft saved."), "success")
            following = _next_assignment(member, assignment) if form.submit.data else None
            return redirect(url_for("jury.score", assignment_id=following.id) if following
                            else url_for("jury.round", round_id=round_.id))
    score = assignment.score
    if request.method == "GET" or status == 409:
        form.version.data = str(score.version) if score else ""
        if score:
            form.note_to_organisers.data = score.note_to_organisers
            form.note_to_entrant.data = score.note_to_entrant
    marks = {c.id: request.form.get(f"mark-{c.id}") if request.method == "POST" and status != 409 else
             (score.marks.get(str(c.id)) if score else None) for c in round_.criteria}
    other = None
    if request.args.get("with", "").isdigit():
        other_assignment = round_service.current_assignment(current_user, int(request.args["with"]))
        if other_assignment is not None and other_assignment.member_id == member.id:
            other = other_assignment
    assignments = round_service.juror_list(member)
    return render_template("jury/score.html", round=round_, assignment=assignment, entry=assignment.entry,
                           form=form, marks=marks, other=other, assignments=assignments,
                           recuse_form=RecuseForm(), steps=round_.scale_marks), status


def _next_assignment(member: RoundMember, current: Assignment) -> Assignment | None:
    for a in round_service.juror_list(member):
        if a.id != current.id and (a.score is None or a.score.submitted_at is None):
            return a
    return None


@bp.route("/assignments/<int:assignment_id>/recuse", methods=["POST"])
@login_required
def recuse(assignment_id: int):
    assignment, member = _assignment(assignment_id)
    form = RecuseForm()
    if form.validate_on_submit():
        with saving() as saved:
            round_service.recuse(member, assignment, form.reason.data, conflict=bool(form.conflict.data))
        if not saved:
            return redirect(url_for("jury.score", assignment_id=assignment.id))
        flash(_("You have stepped back from this entry; another juror will score it."), "success")
    else:
        flash(_("Say briefly why."), "error")
        return redirect(url_for("jury.score", assignment_id=assignment.id))
    return redirect(url_for("jury.round", round_id=member.round_id))
