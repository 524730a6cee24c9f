"""CSV and XLSX exports for a call's organisers: every entry with its provenance, and the call's figures (written by
contest.tabular, the one writer of spreadsheets). Names, never e-mail addresses."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from contest.console import bp
from contest.i18n import meeting_place
from contest.models import Call, Department, Entry, Topic, User
from contest.permissions import call_staff_required
from contest.services import entries as entry_service
from contest.services import followup as followup_service
from contest.services import meetings as meeting_service
from contest.services import public as public_service
from contest.services import results as results_service
from contest.tabular import Sheet, csv_response, xlsx_response

ENTRY_COLUMNS = ["entry_id", "created_at", "status", "channel", "title", "topic", "theme", "place", "meeting_id",
                 "poster_id", "merged_into_id", "author", "group", "moderated_at", "rejection_reason"]
FIGURE_COLUMNS = ["measure", "key", "count"]
BALLOT_COLUMNS = ["ballot_id", "round_id", "round", "entry_id", "title", "cast_at", "counted", "voided_at",
                  "voided_reason"]
MEETING_COLUMNS = ["meeting_id", "held_at", "kind", "title", "place", "venue", "attendees", "organisations",
                   "suggestions"]
FOLLOW_UP_COLUMNS = ["entry_id", "title", "stage", "progress", "adopted_at", "updated_at"]
FOLLOW_UP_UPDATE_COLUMNS = ["entry_id", "title", "happened_on", "stage", "progress", "text"]


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


def ballot_rows(call: Call):
    """Every ballot of the call's votes rounds, counted or voided and why (BALLOT_COLUMNS), row by row."""
    for ballot, round_id, round_title, entry_id, title, cast_at, voided_at, reason in \
            public_service.ballots_for_export(call):
        yield [ballot, round_id, round_title, entry_id, title, cast_at, voided_at is None, voided_at, reason]


def meeting_rows(call: Call) -> list[list]:
    """Every meeting of the call with its suggestions counted (MEETING_COLUMNS)."""
    return [[m.id, m.held_at, m.kind, m.title, meeting_place(m), m.venue, m.attendees,
             "; ".join(meeting_service.organisation_lines(m.organisations)), n]
            for m, n in meeting_service.meetings_of(call, public=False)]


def follow_up_sheets(call: Call) -> list[Sheet]:
    """The adopted entries with their stage, and every update of each (two tables)."""
    follow_ups = followup_service.follow_ups_of(call)
    return [Sheet(_("Follow-up"), FOLLOW_UP_COLUMNS,
                  [[f.entry_id, f.entry.title, f.stage, f.progress, f.created_at, f.updated_at] for f in follow_ups]),
            Sheet(_("Updates"), FOLLOW_UP_UPDATE_COLUMNS,
                  [[f.entry_id, f.entry.title, u.happened_on, u.stage, u.progress, u.text]
                   for f in follow_ups for u in f.updates])]


@bp.route("/calls/<int:call_id>/ballots.csv")
@call_staff_required
def ballots_csv(call: Call):
    return csv_response(BALLOT_COLUMNS, ballot_rows(call), f"ballots-call-{call.id}.csv")


@bp.route("/calls/<int:call_id>/ballots.xlsx")
@call_staff_required
def ballots_xlsx(call: Call):
    return xlsx_response([Sheet(_("Ballots"), BALLOT_COLUMNS, ballot_rows(call))], f"ballots-call-{call.id}.xlsx")


@bp.route("/calls/<int:call_id>/meetings.csv")
@call_staff_required
def meetings_csv(call: Call):
    return csv_response(MEETING_COLUMNS, meeting_rows(call), f"meetings-call-{call.id}.csv")


@bp.route("/calls/<int:call_id>/meetings.xlsx")
@call_staff_required
def meetings_xlsx(call: Call):
    return xlsx_response([Sheet(_("Meetings"), MEETING_COLUMNS, meeting_rows(call))],
                         f"meetings-call-{call.id}.xlsx")


@bp.route("/calls/<int:call_id>/follow-up.csv")
@call_staff_required
def follow_up_csv(call: Call):
    """The adopted entries and their stages (the updates are the .xlsx's second sheet)."""
    sheet = follow_up_sheets(call)[0]
    return csv_response(sheet.columns, sheet.rows, f"follow-up-call-{call.id}.csv")


@bp.route("/calls/<int:call_id>/follow-up.xlsx")
@call_staff_required
def follow_up_xlsx(call: Call):
    return xlsx_response(follow_up_sheets(call), f"follow-up-call-{call.id}.xlsx")
