"""Console pages for results: preview the final ranking, give the prizes, publish, answer objections, finalise,
export."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.console import bp
from contest.console.forms import AnswerForm, AwardsForm, FinaliseForm, PublishResultsForm, RetryResultsForm
from contest.extensions import db
from contest.models import Call, Objection
from contest.permissions import call_staff_required
from contest.services import ServiceError
from contest.services import documents as document_service
from contest.services import results as results_service
from contest.tabular import csv_response, download, xlsx_response


@bp.route("/calls/<int:call_id>/results")
@call_staff_required
def results(call: Call):
    ready = results_service.rounds_over(call)
    snap = results_service.current(call)  # computed once (a large call's by the worker), then read where stored
    db.session.commit()  # the snapshot stored, or asked of the worker
    if snap is not None:
        rows, page, pages = results_service.stored.page(call, snap, request.args.get("page", 1, type=int),
                                                        shown=False)
        context = results_service.results_context(call, snap, rows) | {"page": page, "pages": pages}
    else:
        context = {"call": call, "snap": None, "computing": results_service.computation(call) if ready else None}
    context["mailing"] = results_service.mailing(call) if call.results_published_at else None
    awards = context.get("awards", {})
    chosen = {e: a.prize_id for e, a in awards.items()} or (results_service.default_awards(call) if snap else {})
    publish_form = PublishResultsForm()
    if request.method == "GET":
        publish_form.notice_days.data = call.notice_days
    return render_template(
        "results/console.html", ready=ready, chosen=chosen, awards_form=AwardsForm(), publish_form=publish_form,
        answer_form=AnswerForm(), retry_form=RetryResultsForm(), formula=results_service.Formula.of(call),
        notice_over=call.notice_ends_at is not None and not results_service.in_notice_period(call), **context)


def _done(call: Call, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("console.results", call_id=call.id))


def _failed(call: Call, error: ServiceError | str):
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for("console.results", call_id=call.id))


@bp.route("/calls/<int:call_id>/results/awards", methods=["POST"])
@call_staff_required
def save_awards(call: Call):
    form = AwardsForm()
    if not form.validate_on_submit():
        return _failed(call, _("The form expired. Please try again."))
    chosen = {}
    for key, value in request.form.items():
        if key.startswith("prize-") and key[6:].isdigit() and value.isdigit():
            chosen[int(key[6:])] = int(value)
    try:
        results_service.set_awards(current_user, call, chosen, form.statement.data or "",
                                   form.statement_en.data or "")
    except ServiceError as error:
        return _failed(call, error)
    return _done(call, _("The awards are saved."))


@bp.route("/calls/<int:call_id>/results/publish", methods=["POST"])
@call_staff_required
def publish_results(call: Call):
    form = PublishResultsForm()
    if not form.validate_on_submit():
        return _failed(call, " ".join(str(m) for errors in form.errors.values() for m in errors))
    try:
        results_service.publish(current_user, call, form.notice_days.data, form.top_n.data)
    except ServiceError as error:
        return _failed(call, error)
    if call.results_final_at is not None:
        return _done(call, _("The results are published with no notice period: they are final."))
    return _done(call, _("The results are published. The notice period has begun."))


@bp.route("/calls/<int:call_id>/results/retry", methods=["POST"])
@call_staff_required
def retry_results(call: Call):
    if not RetryResultsForm().validate_on_submit():
        return _failed(call, _("The form expired. Please try again."))
    try:
        results_service.retry(current_user, call)
    except ServiceError as error:
        return _failed(call, error)
    return _done(call, _("The worker will try again in a moment."))


@bp.route("/calls/<int:call_id>/results/objections/<int:objection_id>/answer", methods=["POST"])
@call_staff_required
def answer_objection(call: Call, objection_id: int):
    objection = db.get_or_404(Objection, objection_id)
    if objection.call_id != call.id:  # another call's objection is not found under this call
        abort(404)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _failed(call, " ".join(str(m) for errors in form.errors.values() for m in errors))
    try:
        results_service.answer_objection(current_user, objection, form.answer.data or "",
                                         form.answer_en.data or "")
    except ServiceError as error:
        return _failed(call, error)
    return _done(call, _("The answer is published."))


@bp.route("/calls/<int:call_id>/results/finalise", methods=["GET", "POST"])
@call_staff_required
def finalise_results(call: Call):
    if request.method == "GET":  # a page of its own asks first
        results_page = url_for("console.results", call_id=call.id)
        return render_template(
            "console/confirm.html", form=FinaliseForm(), refusal=results_service.final_refusal(call),
            heading=_("Make the results of “%(call)s” final?", call=call.title),
            message=_("The ranking and the awards can no longer change, no objection can be filed, and the call's "
                      "timeline says the results are final. This cannot be undone."),
            crumbs=[(url_for("console.call", call_id=call.id), call.title), (results_page, _("Results"))],
            back=(results_page, _("Back to the results")))
    if not FinaliseForm().validate_on_submit():
        return _failed(call, _("The form expired. Please try again."))
    try:
        results_service.finalise(current_user, call)
    except ServiceError as error:
        return _failed(call, error)
    return _done(call, _("The results are final."))


@bp.route("/calls/<int:call_id>/results.csv")
@call_staff_required
def results_csv(call: Call):
    if results_service.snapshot(call) is None and not results_service.rounds_over(call):
        return _failed(call, _("The results can be exported once every round is over."))
    try:
        columns, rows = results_service.export_table(call)
    except ServiceError as error:
        return _failed(call, error)
    db.session.commit()  # the snapshot stored, if it was computed now
    return csv_response(columns, rows, f"results-call-{call.id}.csv")


@bp.route("/calls/<int:call_id>/results.xlsx")
@call_staff_required
def results_xlsx(call: Call):
    if results_service.snapshot(call) is None and not results_service.rounds_over(call):
        return _failed(call, _("The results can be exported once every round is over."))
    try:
        sheets = results_service.export_sheets(call, (_("Results"), _("Objections and answers")))
    except ServiceError as error:
        return _failed(call, error)
    db.session.commit()  # the snapshot stored, if it was computed now
    return xlsx_response(sheets, f"results-call-{call.id}.xlsx")


@bp.route("/calls/<int:call_id>/results/notice.pdf")
@call_staff_required
def results_notice(call: Call):
    try:
        body = document_service.notice_pdf(current_user, call)
    except ServiceError as error:
        return _failed(call, error)
    return download(body, f"results-notice-call-{call.id}.pdf", "application/pdf")


@bp.route("/calls/<int:call_id>/results.json")
@call_staff_required
def results_json(call: Call):
    if results_service.snapshot(call) is None and not results_service.rounds_over(call):
        return _failed(call, _("The results can be exported once every round is over."))
    try:
        body = results_service.export_json(call)
    except ServiceError as error:
        return _failed(call, error)
    db.session.commit()  # the snapshot stored, if it was computed now
    return Response(stream_with_context(body), mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=results-call-{call.id}.json"})
