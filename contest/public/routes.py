"""Public pages."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from contest.security import safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
def index():
    return render_template("public/index.html")


@bp.route("/lang/<code>")
def set_language(code: str):
    """Remember the visitor's language in their session; it changes nothing else, so a link will do."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("public.index"))
