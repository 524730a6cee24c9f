"""Public round pages: thin skins over contest.services.public."""
from __future__ import annotations

from functools import wraps
from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from contest.database import with_retries
from contest.extensions import db, limiter
from contest.forms import Form
from contest.lookups import public_round
from contest.models import Entry, PublicMode, Round
from contest.services import ServiceError
from contest.services import public as public_service
from contest.sessions import session_account
from contest.views import saving
from contest.vote import bp


class BallotForm(Form):
    """Only the CSRF token: the entry and the choice are in the address and the button."""


def _account_key() -> str:
    # The account the session names ("<id>:<session token>", what current_user.get_id() gives), read without
    # loading the account: the vote checks it in its own statement.
    account = session_account()
    return f"voter:{account.id}:{account.token}" if account else request.remote_addr or ""


def _address() -> str:
    return request.remote_addr or ""


@bp.route("/rounds/<int:round_id>")
def round(round_id: int):
    round_ = public_round(round_id)
    visible = public_service.counts_visible(round_, current_user)
    pairwise = visible and round_.public_mode is PublicMode.PAIRWISE
    if pairwise and public_service.standing_stale(round_):
        # This view makes the round's stored standing again (see STANDING_MAX_AGE): it writes.
        with_retries(lambda: public_service.refresh_standing(round_))
    entries, next_start = public_service.page_of_round(round_, request.args.get("start", type=int))
    problem, log_in_first = None, False
    try:
        public_service.check_eligible(current_user, round_)
    except public_service.NotLoggedIn as error:
        problem, log_in_first = str(error), True
    except ServiceError as error:
        problem = str(error)
    mine = public_service.my_votes(current_user, round_)
    outcome = _outcome(round_, mine)
    return render_template(
        "vote/round.html", round=round_, call=round_.call, entries=entries, problem=problem,
        log_in_first=log_in_first, mine=mine, next_start=next_start,
        counts=public_service.vote_counts(round_, [e.id for e in entries])
        if visible and round_.public_mode is PublicMode.VOTES else None,
        scores=public_service.stored_standing(round_, [e.id for e in entries]) if pairwise else None,
        made=public_service.comparisons_made(current_user, round_), form=BallotForm(),
        voided=public_service.voided_summary(round_) if visible else [], outcome=outcome,
    )


def _outcome(round_: Round, mine: set[int]):
    """The message of a vote just sent (see `cast`), shown only when the voter's votes bear it out."""
    kind, entry_id = request.args.get("outcome"), request.args.get("entry", type=int)
    if kind not in ("counted", "already") or entry_id not in mine:
        return None
    entry = db.session.get(Entry, entry_id)
    message = (_("Your vote for “%(title)s” is counted.", title=entry.title) if kind == "counted"
               else _("You have already voted for this entry."))
    return SimpleNamespace(kind=kind, message=message)


def _account_required(view):
    """login_required without loading the account: the vote itself checks that the session still stands for
    it (cast_vote_as), so a vote costs no query of its own for that; a stale session is answered the same."""
    @wraps(view)
    def checked(*args, **kwargs):
        if session_account() is None:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)
    return checked


@bp.route("/rounds/<int:round_id>/votes/<int:entry_id>", methods=["POST"])
@_account_required
@limiter.limit(lambda: current_app.config["VOTE_LIMIT_PER_ACCOUNT"], key_func=_account_key)
@limiter.limit(lambda: current_app.config["VOTE_LIMIT_PER_ADDRESS"])
def cast(round_id: int, entry_id: int):
    # CSRFProtect has checked the token before any POST reaches a view, so no BallotForm here: it would only
    # make a new token. The outcome travels in the address, not in a flash: a vote then never rewrites the
    # session cookie. The page shows it only if it is true for this voter.
    outcome = None
    try:
        counted = with_retries(lambda: public_service.cast_vote_as(session_account(), round_id, entry_id, _address()))
    except public_service.NotLoggedIn:
        db.session.rollback()
        return current_app.login_manager.unauthorized()
    except public_service.NotFound:
        db.session.rollback()
        abort(404)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        # The same vote again changed nothing and was committed like a counted one: a rollback would cost
        # more (psycopg then drops its prepared statements).
        outcome = "counted" if counted else "already"
    return redirect(url_for("vote.round", round_id=round_id, outcome=outcome, entry=entry_id if outcome else None,
                            _anchor=f"entry-{entry_id}"))


@bp.route("/rounds/<int:round_id>/votes/<int:entry_id>/take-back", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["VOTE_LIMIT_PER_ACCOUNT"], key_func=_account_key)
def take_back(round_id: int, entry_id: int):
    round_ = public_round(round_id)
    entry = db.get_or_404(Entry, entry_id)
    if BallotForm().validate_on_submit():
        with saving() as saved:
            with_retries(lambda: public_service.take_back(current_user, round_, entry))
        if saved:
            flash(_("Your vote for “%(title)s” is taken back.", title=entry.title), "success")
    return redirect(url_for("vote.round", round_id=round_id, _anchor=f"entry-{entry_id}"))


_PAIR_ANSWER_MESSAGES = {
    public_service.PairAnswer.COUNTED: lambda: (_("Thank you: your answer is counted."), "success"),
    public_service.PairAnswer.REPEATED: lambda: (
        _("You have already answered this pair: your first answer counts, this one does not."), "error"),
    public_service.PairAnswer.STALE: lambda: (_("This pair is no longer valid. Here is a new one."), "error"),
}


@bp.route("/rounds/<int:round_id>/compare", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["VOTE_LIMIT_PER_ACCOUNT"], key_func=_account_key, methods=["POST"])
@limiter.limit(lambda: current_app.config["VOTE_LIMIT_PER_ADDRESS"], methods=["POST"])
def compare(round_id: int):
    round_ = public_round(round_id)
    if round_.public_mode is not PublicMode.PAIRWISE:
        abort(404)
    form = BallotForm()
    if form.validate_on_submit():
        choice = request.form.get("choice", "")
        token = request.form.get("pair", "")
        with saving() as saved:
            outcome = with_retries(
                lambda: public_service.answer_pair(current_user, round_, token, choice, _address()))
        if saved:
            flash(*_PAIR_ANSWER_MESSAGES[outcome]())
        return redirect(url_for("vote.compare", round_id=round_.id))
    problem, pair = None, None
    try:
        # Showing a pair stores it (it is shown again until answered): this page view writes.
        pair = with_retries(lambda: public_service.next_pair(current_user, round_))
    except ServiceError as error:
        db.session.rollback()
        problem = str(error)
    return render_template("vote/compare.html", round=round_, call=round_.call, pair=pair, problem=problem,
                           made=public_service.comparisons_made(current_user, round_), form=form)
