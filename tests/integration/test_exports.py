"""CSV exports for a call's organisers: every entry with its provenance and author's name and group (never an
e-mail address), and the call's figures; for the call's staff only."""
import csv
import io

import pytest

from contest.console.exports import ENTRY_COLUMNS, FIGURE_COLUMNS
from contest.extensions import db
from contest.models import Channel, EntryStatus, ParticipantGroup
from contest.services.entries import EntryData, Upload, staff_entry, submit_entry
from tests.helpers import approved_entries, log_in, make_call, make_organiser, make_user, picture_bytes
from tests.openapi_contract import EMAIL


@pytest.fixture
def exported(app, transport_commission, transport_organiser):
    call = make_call(transport_commission, entries_per_person=3)
    approved = approved_entries(call, 2)
    student = make_user("student@example.org", name="学生小林", group=ParticipantGroup.STUDENT)
    with app.test_request_context():
        waiting = submit_entry(student, call, EntryData(title="=HYPERLINK(\"http://evil.example\")"),
                               [Upload(picture_bytes(7), "图")], accepted_terms=True)
        paper = staff_entry(transport_organiser, call, channel=Channel.PAPER, data=EntryData(title="信箱来信"),
                            uploads=[Upload(picture_bytes(8), "附图")], scans=[Upload(picture_bytes(9), "扫描件")],
                            author_name="王阿姨")
    waiting.status = EntryStatus.SUBMITTED
    db.session.commit()
    return {"call": call, "approved": approved, "waiting": waiting, "paper": paper}


def read_csv(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff"), "a byte-order mark, so that Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_entries_export_lists_every_entry_with_names_and_no_addresses(client, exported, transport_organiser):
    log_in(client, transport_organiser.email)
    response = client.get(f"/console/calls/{exported['call'].id}/entries.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert list(rows[0]) == ENTRY_COLUMNS
    by_id = {int(r["entry_id"]): r for r in rows}
    assert set(by_id) == {e.id for e in exported["approved"]} | {exported["waiting"].id, exported["paper"].id}
    waiting, paper = by_id[exported["waiting"].id], by_id[exported["paper"].id]
    assert (waiting["status"], waiting["channel"], waiting["author"], waiting["group"]) == (
        "submitted", "web", "学生小林", "student")
    assert waiting["title"].startswith("'="), "a title that would be a formula in a spreadsheet is quoted"
    assert (paper["channel"], paper["author"], paper["group"], paper["status"]) == ("paper", "王阿姨", "", "approved")
    assert EMAIL.search(response.get_data(as_text=True)) is None


def test_the_figures_export_counts_entries_by_channel_and_group(client, exported, transport_organiser):
    log_in(client, transport_organiser.email)
    rows = read_csv(client.get(f"/console/calls/{exported['call'].id}/figures.csv"))
    assert list(rows[0]) == FIGURE_COLUMNS
    figures = {(r["measure"], r["key"]): int(r["count"]) for r in rows}
    assert figures[("received", "")] == 4 and figures[("approved", "")] == 3
    assert figures[("approved_by_channel", "web")] == 2 and figures[("approved_by_channel", "paper")] == 1
    assert figures[("approved_by_group", "citizen")] == 2 and figures[("approved_by_group", "none")] == 1


@pytest.mark.parametrize("export", ["entries.csv", "figures.csv"])
def test_only_the_calls_staff_may_export(client, another_client, app, exported, planning_bureau, export):
    url = f"/console/calls/{exported['call'].id}/{export}"
    assert client.get(url).status_code == 302  # to the login page
    make_user("nosy@example.org")
    log_in(client, "nosy@example.org")
    assert client.get(url).status_code == 403
    make_organiser(planning_bureau, "planner@example.org")  # an organiser, of another department
    log_in(another_client, "planner@example.org")
    assert another_client.get(url).status_code == 403


def test_the_console_links_to_the_exports(client, exported, transport_organiser):
    log_in(client, transport_organiser.email)
    html = client.get(f"/console/calls/{exported['call'].id}/").get_data(as_text=True)
    assert f"/console/calls/{exported['call'].id}/entries.csv" in html
    assert f"/console/calls/{exported['call'].id}/figures.csv" in html


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+cmd", "@SUM(1)", "-2+3", "\t=1"])
def test_an_entrants_name_that_a_spreadsheet_would_run_is_quoted_in_every_export(
        client, app, exported, transport_organiser, name):
    author = exported["approved"][0].author
    author.display_name = name
    exported["approved"][0].title = name
    db.session.commit()
    log_in(client, transport_organiser.email)
    for export in ("entries.csv", "figures.csv"):
        response = client.get(f"/console/calls/{exported['call'].id}/{export}")
        assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert "no-store" in response.headers["Cache-Control"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        for row in read_csv(response):
            for value in row.values():
                assert not value.startswith(("=", "+", "@", "\t", "\r", "-")), (export, value)
    rows = read_csv(client.get(f"/console/calls/{exported['call'].id}/entries.csv"))
    mine = next(r for r in rows if int(r["entry_id"]) == exported["approved"][0].id)
    assert mine["author"] == "'" + name and mine["title"] == "'" + name
