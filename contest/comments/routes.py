"""Comment pages: thin skins over contest.services.comments."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from contest.comments.forms import CommentModerationForm, CommentSettingsForm, EndorseForm, ReportForm
from contest.extensions import db, limiter
from contest.forms import CommentForm
from contest.lookups import public_call
from contest.models import Call, Comment, CommentStatus, Entry
from contest.permissions import call_staff_required, can_manage_call
from contest.services import comments as comment_service
from contest.services.entries import can_view_entry
from contest.views import saving

bp = Blueprint("comments", __name__)

# Writing, endorsing and reporting share one pair of counters: per account and per address.
per_account = limiter.shared_limit(lambda: current_app.config["COMMENT_LIMIT_PER_ACCOUNT"], scope="comment-account",
                                   key_func=lambda: f"commenter:{current_user.get_id() or get_remote_address()}",
                                   methods=["POST"])
per_address = limiter.shared_limit(lambda: current_app.config["COMMENT_LIMIT_PER_ADDRESS"], scope="comment-address",
                                   methods=["POST"])


def _page_of(call: Call, entry: Entry | None, anchor: str = "comments") -> str:
    if entry is not None:
        return url_for("public.entry", entry_id=entry.id, _anchor=anchor)
    return url_for("public.call", call_id=call.id, _anchor=anchor)


def _visible_comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or not comment_service.can_view_comment(current_user, comment):
        abort(404)
    return comment


def _post(call: Call, entry: Entry | None):
    form = CommentForm()
    if form.validate_on_submit():
        parent = None
        if (form.parent_id.data or "").isdigit():
            parent = db.session.get(Comment, int(form.parent_id.data))
            if parent is None:
                abort(404)
        with saving() as saved:
            comment = comment_service.post_comment(current_user, call, form.body.data or "", entry=entry,
                                                   parent=parent)
        if saved:
            if comment.status is CommentStatus.PENDING:
                flash(_("Thank you. Your first comments wait for the organisers before others see them."), "success")
            else:
                flash(_("Your comment is posted."), "success")
            return redirect(_page_of(call, entry, f"comment-{comment.id}"))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(_page_of(call, entry))


@bp.route("/calls/<int:call_id>/comments", methods=["POST"])
@login_required
@per_address
@per_account
def comment_on_call(call_id: int):
    return _post(public_call(call_id), None)


@bp.route("/entries/<int:entry_id>/comments", methods=["POST"])
@login_required
@per_address
@per_account
def comment_on_entry(entry_id: int):
    entry = db.session.get(Entry, entry_id)
    if entry is None or not can_view_entry(current_user, entry):
        abort(404)
    return _post(entry.call, entry)


@bp.route("/comments/<int:comment_id>/endorse", methods=["POST"])
@login_required
@per_address
@per_account
def endorse(comment_id: int):
    comment = _visible_comment(comment_id)
    call, entry = comment_service.comment_target(comment)
    if EndorseForm().validate_on_submit():
        with saving() as saved:
            counted = comment_service.endorse(current_user, comment)
        if saved:
            flash(_("Marked useful.") if counted else _("You have already marked this comment useful."), "success")
    return redirect(_page_of(call, entry, f"comment-{comment.id}"))


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
@per_address
@per_account
def report(comment_id: int):
    comment = _visible_comment(comment_id)
    call, entry = comment_service.comment_target(comment)
    form = ReportForm()
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            counted = comment_service.report(current_user, comment, form.category.data, form.reason.data or "")
        if saved:
            flash(_("Thank you: the organisers will look at it.") if counted
                  else _("You have already reported this comment; it counts once."), "success")
            return redirect(_page_of(call, entry, f"comment-{comment.id}"))
    return render_template("comments/report.html", form=form, comment=comment, call=call, entry=entry,
                           back=_page_of(call, entry, f"comment-{comment.id}")), (400 if form.errors else 200)


# The organisers' review -----------------------------------------------------------------------------------

@bp.route("/console/calls/<int:call_id>/comments", methods=["GET", "POST"])
@call_staff_required
def queue(call: Call):
    settings = CommentSettingsForm(prefix="settings")
    if settings.validate_on_submit():
        comment_service.set_comments_open(current_user, call, open_=bool(settings.comments_open.data),
                                          closed_while_judging=bool(settings.closed_while_judging.data))
        db.session.commit()
        flash(_("The comment settings are saved."), "success")
        return redirect(url_for("comments.queue", call_id=call.id))
    settings.comments_open.data = call.comments_open
    settings.closed_while_judging.data = call.comments_closed_while_judging
    return render_template("comments/queue.html", call=call, settings=settings, form=CommentModerationForm(),
                           queued=comment_service.moderation_queue(current_user, call),
                           closed=comment_service.closed_because(call))


@bp.route("/console/comments/<int:comment_id>/moderate", methods=["POST"])
@login_required
def moderate(comment_id: int):
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404)
    call, _entry = comment_service.comment_target(comment)
    if not can_manage_call(current_user, call):
        abort(403)
    form = CommentModerationForm()
    if form.validate_on_submit():
        with saving() as saved:
            comment_service.moderate(current_user, comment, hide=bool(form.hide.data), reason=form.reason.data or "")
        if saved:
            flash(_("The comment is hidden.") if form.hide.data else _("The comment is shown."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("comments.queue", call_id=call.id))
