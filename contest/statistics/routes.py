"""Statistics pages: thin skins over contest.services.statistics, with each chart's figures in a JSON block that
static/js/charts.js draws (the CSP allows no inline script, and a JSON block is never run)."""
from __future__ import annotations

from flask import abort, render_template
from flask_babel import format_percent, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from contest import geo, pictures
from contest.extensions import db
from contest.models import Department
from contest.services import statistics as statistics_service
from contest.services.statistics import Row, Statistics
from contest.statistics import bp


def percent(value: float | None) -> str:
    return format_percent(value, "#,##0.#%") if value is not None else "—"


def _chart(rows: list[Row], kind: str = "bar") -> dict:
    return {"type": kind, "labels": [r.label for r in rows], "data": [r.count for r in rows],
            "dataset": _("Approved entries")}


def _charts(figures: Statistics) -> dict:
    return {
        "channel": _chart(figures.by_channel),
        "group": _chart(figures.by_group),
        "place": _chart(figures.by_place),
        "organiser": _chart(figures.by_organiser),
        "month": _chart(figures.by_month, "line"),
    }


def _districts(figures: Statistics) -> tuple[pictures.DistrictPicture, list[Row]]:
    """The districts' picture and its table: every district of the outlines, the most entries first."""
    picture = pictures.districts(figures.by_district, geo.districts())
    english = not str(get_locale()).startswith("zh")
    rows = sorted((Row(d.name, d.name_en if english else d.name, d.count) for d in picture.shapes),
                  key=lambda r: (-r.count, r.label))
    return picture, rows


def _render(figures: Statistics, department: Department | None):
    picture, rows = _districts(figures)
    return render_template("statistics/index.html", figures=figures, department=department,
                           charts=_charts(figures), percent=percent, district_picture=picture, district_rows=rows)


@bp.route("")
def index():
    return _render(statistics_service.statistics(), None)


@bp.route("/departments/<int:department_id>")
def department(department_id: int):
    # Its parent and the departments under it, loaded here: the page costs the same queries whatever the data.
    department = db.session.get(Department, department_id,
                                options=[joinedload(Department.parent), selectinload(Department.children)])
    if department is None:
        abort(404)
    return _render(statistics_service.statistics(department), department)
