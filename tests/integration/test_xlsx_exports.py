"""Every organiser export that exists as CSV also as .xlsx (contest.tabular, the one writer): opened with
openpyxl, each holds the same rows as its CSV, with numbers and date-times typed (in the site's zone, naive as
Excel needs), formula-like text escaped as in the CSV, and its header row in the reader's language."""
import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from contest.extensions import db
from contest.models import Entry
from contest.services import results as results_service
from contest.tabular import XLSX, cell
from tests.helpers import log_in, make_user
from tests.integration.test_exports import exported  # noqa: F401 (the fixture)
from tests.integration.test_results import FORMULAS, _name_authors_with_formulas

SHANGHAI = ZoneInfo("Asia/Shanghai")


def speak(client, language: str) -> None:
    with client.session_transaction() as session:
        session["lang"] = language


def read_xlsx(response):
    assert response.status_code == 200 and response.mimetype == XLSX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def same_rows(sheet, csv_lines: list[list[str]], dates: set[int] = frozenset()) -> None:
    """The sheet's data rows are the CSV's, cell by cell; the columns in `dates` hold date-times."""
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(csv_lines) - 1
    for row, line in zip(rows, csv_lines[1:], strict=True):
        row = list(row) + [None] * (len(line) - len(row))
        for col, (value, text) in enumerate(zip(row, line, strict=True)):
            if col in dates and text:
                assert isinstance(value, datetime), (col, value)
                moment = datetime.fromisoformat(text).astimezone(SHANGHAI).replace(tzinfo=None, second=0,
                                                                                   microsecond=0)
                assert value.replace(second=0, microsecond=0) == moment
            elif text in ("", "None"):
                assert value in (None, ""), (col, value, text)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                assert value == float(text), (col, value, text)
            else:
                assert cell(value) == text, (col, value, text)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_entries_and_figures_as_xlsx_hold_the_rows_of_their_csv(client, exported, transport_organiser,  # noqa: F811
                                                                    language):
    log_in(client, transport_organiser.email)
    speak(client, language)
    call = exported["call"]
    for name in ("entries", "figures"):
        book = read_xlsx(client.get(f"/console/calls/{call.id}/{name}.xlsx"))
        assert len(book.sheetnames) == 1
        sheet = book.active
        lines = csv_rows(client.get(f"/console/calls/{call.id}/{name}.csv"))
        columns = lines[0]
        same_rows(sheet, lines, {columns.index(c) for c in ("created_at", "moderated_at") if c in columns})
        header = [c.value for c in sheet[1]]
        if name == "entries":
            expected = ["作品", "提交时间", "状态"] if language == "zh" else ["Entry", "Submitted at", "Status"]
            assert header[:3] == expected
            assert sheet.column_dimensions["A"].width > 0 and sheet.column_dimensions["E"].width >= 10
            waiting = next(r for r in sheet.iter_rows(min_row=2, values_only=True)
                           if r[0] == exported["waiting"].id)
            assert isinstance(waiting[0], int), "an entry's number is a number"
            assert isinstance(waiting[1], datetime) and waiting[1].tzinfo is None
            entry = db.session.get(Entry, exported["waiting"].id)
            assert abs(waiting[1] - entry.created_at.astimezone(SHANGHAI).replace(tzinfo=None)).total_seconds() < 60
            assert waiting[4].startswith("'="), "a formula-like title is escaped as in the CSV"
        else:
            counts = {(r[0], r[1] or ""): r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}
            assert counts[("received", "")] == 4 and isinstance(counts[("received", "")], int)


def test_the_results_as_xlsx_hold_every_part_of_each_score_as_numbers(app, client, story, transport_organiser):
    _name_authors_with_formulas(story)
    call = story["call"]
    with app.test_request_context():
        results_service.publish(transport_organiser, call, 7, None)
        objection = results_service.file_objection(story["voters"][0], call, story["entries"][1].id, "=1+1 计票有误")
        results_service.answer_objection(transport_organiser, objection, "已复核")
    db.session.commit()
    log_in(client, transport_organiser.email)
    speak(client, "en")
    book = read_xlsx(client.get(f"/console/calls/{call.id}/results.xlsx"))
    assert book.sheetnames == ["Results", "Objections and answers"], "one sheet per table"
    objections = list(book["Objections and answers"].iter_rows(values_only=True))
    assert objections[0] == ("Objection", "Filed at", "Entry", "Reason", "Answer", "Answer in English",
                             "Answered at")
    assert objections[1][0] == objection.id and objections[1][2] == story["entries"][1].id
    assert objections[1][3] == "'=1+1 计票有误" and objections[1][4] == "已复核"
    assert isinstance(objections[1][1], datetime) and isinstance(objections[1][6], datetime)
    sheet = book["Results"]
    lines = csv_rows(client.get(f"/console/calls/{call.id}/results.csv"))
    same_rows(sheet, lines)
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Rank", "Entry", "Title"] and "美观" in header and "Public score" in header
    first = next(sheet.iter_rows(min_row=2, values_only=True))
    assert first[0] == 1 and first[1] == story["entries"][0].id
    combined = header.index("Combined score")
    scores = [r[combined] for r in sheet.iter_rows(min_row=2, values_only=True) if r[combined] is not None]
    assert scores and all(isinstance(s, int | float) for s in scores), "scores are numbers, not text"
    texts = [v for r in sheet.iter_rows(values_only=True) for v in r if isinstance(v, str)]
    for formula_text in FORMULAS:
        assert f"'{formula_text}" in texts
    assert not [t for t in texts if t.startswith(("=", "+", "@", "\t", "\r"))]
    assert not [c for r in sheet.iter_rows() for c in r if c.data_type == "f"], "no cell is a formula"
    citizen = app.test_client()
    make_user("nosy@example.org")
    log_in(citizen, "nosy@example.org")
    assert citizen.get(f"/console/calls/{call.id}/results.xlsx").status_code == 403
    assert citizen.get(f"/console/calls/{call.id}/entries.xlsx").status_code == 403


def test_ballots_meetings_and_follow_up_as_csv_and_xlsx_hold_the_same_rows(app, client, story, transport_organiser):
    """The votes counted and voided (with why, nothing of the voter), the meetings and the follow-up: each as CSV and
    as .xlsx with the same rows; the .xlsx of the follow-up also holds every update."""
    from datetime import timedelta

    from contest.models import FollowUpStage, MeetingKind
    from contest.models.types import utcnow
    from contest.services import followup as followup_service
    from contest.services import meetings as meeting_service

    call = story["call"]
    with app.test_request_context():
        meeting_service.create_meeting(transport_organiser, call, meeting_service.MeetingData(
            title="=长桌会：栏杆", kind=MeetingKind.WORKSHOP, held_at=utcnow() - timedelta(days=1), venue="天平街道",
            attendees=24, organisations="居委会\n设计院"))
        db.session.commit()
        results_service.publish(transport_organiser, call, 7, None)
        db.session.commit()
        follow_up = followup_service.adopt(transport_organiser, story["entries"][0])
        followup_service.add_update(transport_organiser, follow_up, stage=FollowUpStage.REFINING, progress=20,
                                    text="设计深化中", happened_on=utcnow())
        db.session.commit()
    log_in(client, transport_organiser.email)
    base = f"/console/calls/{call.id}"
    ballots = csv_rows(client.get(f"{base}/ballots.csv"))
    assert ballots[0][:3] == ["ballot_id", "round_id", "round"] and len(ballots) == 1 + 7  # six counted, one voided
    voided = [line for line in ballots[1:] if line[6] == "False"]
    assert len(voided) == 1 and voided[0][8] == "新注册账号集中投票"
    assert not any("voter" in text for line in ballots for text in line)  # nothing of who voted
    same_rows(read_xlsx(client.get(f"{base}/ballots.xlsx")).active, ballots, dates={5, 7})
    meetings = csv_rows(client.get(f"{base}/meetings.csv"))
    assert meetings[1][3] == "'=长桌会：栏杆" and meetings[1][4] == ""  # no English title given
    assert meetings[1][7] == "24" and meetings[1][8] == "居委会; 设计院"
    same_rows(read_xlsx(client.get(f"{base}/meetings.xlsx")).active, meetings, dates={1})
    follow = csv_rows(client.get(f"{base}/follow-up.csv"))
    assert len(follow) == 2 and follow[1][0] == str(follow_up.entry_id) and follow[1][3] == "20"
    book = read_xlsx(client.get(f"{base}/follow-up.xlsx"))
    stages, updates = book.worksheets
    same_rows(stages, follow, dates={4, 5})
    texts = [row[5] for row in updates.iter_rows(min_row=2, values_only=True)]
    assert len(texts) == len(follow_up.updates) and "设计深化中" in texts  # every update, the adoption's too
    outsider = app.test_client()
    make_user("nosy-sheets@example.org")
    log_in(outsider, "nosy-sheets@example.org")
    for path in ("ballots.csv", "ballots.xlsx", "meetings.csv", "meetings.xlsx", "follow-up.csv", "follow-up.xlsx"):
        assert outsider.get(f"{base}/{path}").status_code == 403, path
