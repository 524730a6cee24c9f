"""The account page where a person makes API tokens for their phone, sees each once, and revokes them."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from contest.extensions import db
from contest.forms import Form
from contest.models import ApiToken
from contest.services import api_tokens as token_service
from contest.text import TOKEN_NAME
from contest.views import saving

bp = Blueprint("api_tokens", __name__)


class NewTokenForm(Form):
    name = StringField(_l("Name of the token"), description=_l("Such as the phone or the app it is for."),
                       validators=[DataRequired(message=_l("Give the token a name, such as the phone it is for.")),
                                   Length(max=TOKEN_NAME.max)])
    submit = SubmitField(_l("Make a token"))


class RevokeForm(Form):
    submit = SubmitField(_l("Revoke"))


def _page(form: NewTokenForm, new_token: str | None = None, status: int = 200):
    response = render_template("api/tokens.html", form=form, revoke_form=RevokeForm(), new_token=new_token,
                               tokens=token_service.tokens_of(current_user))
    # A page that shows a token once must not be kept by any cache or the browser's history.
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/api-tokens", methods=["GET", "POST"])
@login_required
def index():
    form = NewTokenForm()
    if form.validate_on_submit():
        with saving(form.form_errors) as saved:
            _token, raw = token_service.create_token(current_user, form.name.data or "")
        if saved:
            return _page(NewTokenForm(formdata=None), new_token=raw)
    return _page(form, status=400 if form.errors else 200)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != current_user.id:
        abort(404)
    if RevokeForm().validate_on_submit():
        with saving() as saved:
            token_service.revoke_token(current_user, token)
        if saved:
            flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))
