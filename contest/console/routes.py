"""Console pages."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from contest.models import Department
from contest.permissions import department_staff_required, staff_required
from contest.services.departments import ancestors

bp = Blueprint("console", __name__)


@bp.route("/")
@staff_required
def index():
    return render_template("console/index.html", departments=current_user.departments)


@bp.route("/<int:department_id>/")
@department_staff_required
def department(department: Department):
    return render_template("console/department.html", department=department, path=ancestors(department))
