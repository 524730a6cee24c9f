"""CSV and XLSX exports for a call's organisers: every entry with its provenance, and the call's figures (written by
contest.tabular, the one writer of spreadsheets). Names, never e-mail addresses."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from contest.console import bp
from contest.models import Call, Department, Entry, Topic, User
from contest.permissions import call_staff_required
from contest.services import entries as entry_service
from contest.services import results as results_service
from contest.tabular import Sheet, csv_response, xlsx_response

ENTRY_COLUMNS = ["entry_id", "created_at", "status", "channel", "title", "topic", "theme", "place", "meeting_id",
                 "poster_id", "merged_into_id", "author", "group", "moderated_at", "rejection_reason"]
FIGURE_COLUMNS = ["measure", "key", "count"]


def entry_rows(call: Call) -> list[list]:
    """Every entry of the call with its provenance (the columns of ENTRY_COLUMNS); a call's archive has them too."""
    entries = entry_service.entries_for_export(
        call, joinedload(Entry.author).load_only(User.display_name, User.group, User.deleted_at),
        joinedload(Entry.topic).load_only(Topic.title), joinedload(Entry.theme),
        joinedload(Entry.place).load_only(Department.name))
    return [[e.id, e.created_at, e.status, e.channel, e.title, e.topic.title if e.topic else "",
             e.theme.name if e.theme else "",
             e.place.name if e.place else "", e.meeting_id, e.poster_id, e.merged_into_id, e.byline,
             e.author.group if e.author else "", e.moderated_at, e.rejection_reason] for e in entries]


def figure_rows(call: Call) -> list[list]:
    """The call's figures (the columns of FIGURE_COLUMNS)."""
    figures = results_service.figures(call)
    rows = [["received", "", figures.received], ["approved", "", figures.approved]]
    rows += [["approved_by_channel", channel, n] for channel, n in figures.by_channel]
    rows += [["approved_by_group", group or "none", n] for group, n in figures.by_group]
    return rows


@bp.route("/calls/<int:call_id>/entries.csv")
@call_staff_required
def entries_csv(call: Call):
    return csv_response(ENTRY_COLUMNS, entry_rows(call), f"entries-call-{call.id}.csv")


@bp.route("/calls/<int:call_id>/figures.csv")
@call_staff_required
def figures_csv(call: Call):
    return csv_response(FIGURE_COLUMNS, figure_rows(call), f"figures-call-{call.id}.csv")



@bp.route("/calls/<int:call_id>/entries.xlsx")
@call_staff_required
def entries_xlsx(call: Call):
    return xlsx_response([Sheet(_("Entries"), ENTRY_COLUMNS, entry_rows(call))], f"entries-call-{call.id}.xlsx")


@bp.route("/calls/<int:call_id>/figures.xlsx")
@call_staff_required
def figures_xlsx(call: Call):
    return xlsx_response([Sheet(_("Figures"), FIGURE_COLUMNS, figure_rows(call))], f"figures-call-{call.id}.xlsx")
