"""CSV and XLSX exports for a call's organisers: every entry with its provenance, the call's figures, every ballot,
the meetings and the follow-up (written by contest.tabular, the one writer of spreadsheets). Names, never e-mail
addresses."""
from __future__ import annotations

from collections.abc import Iterator

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

# What a department wrote comes in both languages, the English twin beside the Chinese column ("topic_en").
ENTRY_COLUMNS = ["entry_id", "created_at", "status", "channel", "title", "topic", "topic_en", "theme", "theme_en",
                 "place", "place_en", "meeting_id", "poster_id", "merged_into_id", "author", "group", "moderated_at",
                 "rejection_reason"]
FIGURE_COLUMNS = ["measure", "key", "count"]
BALLOT_COLUMNS = ["ballot_id", "round_id", "round", "entry_id", "title", "cast_at", "counted", "voided_at",
                  "voided_reason"]
MEETING_COLUMNS = ["meeting_id", "held_at", "kind", "title", "title_en", "place", "venue", "attendees", "organisations",
                   "suggestions"]
FOLLOW_UP_COLUMNS = ["entry_id", "title", "stage", "progress", "adopted_at", "updated_at"]
FOLLOW_UP_UPDATE_COLUMNS = ["entry_id", "title", "happened_on", "stage", "progress", "text", "text_en"]


def entry_rows(call: Call) -> Iterator[list]:
    """Every entry of the call with its provenance (the columns of ENTRY_COLUMNS), row by row as they are read;
    a call's archive has them too."""
    entries = entry_service.entries_for_export(
        call, joinedload(Entry.author).load_only(User.display_name, User.group, User.deleted_at),
        joinedload(Entry.topic).load_only(Topic.title, Topic.title_en), joinedload(Entry.theme),
        joinedload(Entry.place).load_only(Department.name, Department.name_en))
    for e in entries:
        yield [e.id, e.created_at, e.status, e.channel, e.title, *_both(e.topic, "title"), *_both(e.theme, "name"),
               *_both(e.place, "name"), e.meeting_id, e.poster_id, e.merged_into_id, e.byline,
               e.author.group if e.author else "", e.moderated_at, e.rejection_reason]


def _both(thing, field: str) -> tuple[str, str]:
    """A department's text of a row in its two columns, Chinese and English (empty when there is none)."""
    if thing is None:
        return "", ""
    texts = thing.both(field)
    return texts["zh"] or "", texts["en"] or ""


def figure_rows(call: Call) -> list[list]:
    """The call's figures (the columns of FIGURE_COLUMNS)."""
    figures = results_service.figures(call)
    rows = [["received", "", figures.received], ["approved", "", figures.approved]]
    rows += [["approved_by_channel", channel, n] for channel, n in figures.by_channel]
    rows += [["approved_by_group", group or "none", n] for group, n in figures.by_group]
    return rows


def ballot_rows(call: Call):
    """Every ballot of the call's votes rounds, counted or voided and why (BALLOT_COLUMNS), row by row."""
    for ballot, round_id, round_title, entry_id, title, cast_at, voided_at, reason in \
            public_service.ballots_for_export(call):
        yield [ballot, round_id, round_title, entry_id, title, cast_at, voided_at is None, voided_at, reason]


def meeting_rows(call: Call) -> list[list]:
    """Every meeting of the call with its suggestions counted (MEETING_COLUMNS)."""
    return [[m.id, m.held_at, m.kind, *_both(m, "title"), meeting_place(m), m.venue, m.attendees,
             "; ".join(meeting_service.organisation_lines(m.organisations)), n]
            for m, n in meeting_service.meetings_of(call, public=False)]


def follow_up_sheets(call: Call) -> list[Sheet]:
    """The adopted entries with their stage, and every update of each (two tables)."""
    follow_ups = followup_service.follow_ups_of(call)
    return [Sheet(_("Follow-up"), FOLLOW_UP_COLUMNS,
                  [[f.entry_id, f.entry.title, f.stage, f.progress, f.created_at, f.updated_at] for f in follow_ups]),
            Sheet(_("Updates"), FOLLOW_UP_UPDATE_COLUMNS,
                  [[f.entry_id, f.entry.title, u.happened_on, u.stage, u.progress, *_both(u, "text")]
                   for f in follow_ups for u in f.updates])]


# Each export as CSV (its first table) and as .xlsx (every table, a sheet each), at /calls/<id>/<name>.csv and
# .xlsx, for the call's staff: one route pair made the same way for each.
EXPORTS = {
    # name in the address: (endpoint stem, the tables)
    "entries": ("entries", lambda call: [Sheet(_("Entries"), ENTRY_COLUMNS, entry_rows(call))]),
    "figures": ("figures", lambda call: [Sheet(_("Figures"), FIGURE_COLUMNS, figure_rows(call))]),
    "ballots": ("ballots", lambda call: [Sheet(_("Ballots"), BALLOT_COLUMNS, ballot_rows(call))]),
    "meetings": ("meetings", lambda call: [Sheet(_("Meetings"), MEETING_COLUMNS, meeting_rows(call))]),
    "follow-up": ("follow_up", follow_up_sheets),
}


def _register(name: str, stem: str, sheets) -> None:
    def as_csv(call: Call):
        first = sheets(call)[0]
        return csv_response(first.columns, first.rows, f"{name}-call-{call.id}.csv")

    def as_xlsx(call: Call):
        return xlsx_response(sheets(call), f"{name}-call-{call.id}.xlsx")

    bp.add_url_rule(f"/calls/<int:call_id>/{name}.csv", f"{stem}_csv", call_staff_required(as_csv))
    bp.add_url_rule(f"/calls/<int:call_id>/{name}.xlsx", f"{stem}_xlsx", call_staff_required(as_xlsx))


for _name, (_stem, _sheets) in EXPORTS.items():
    _register(_name, _stem, _sheets)
