"""Meetings of a call: organisers record a long-table talk, enter the suggestions raised at it as entries of the
channel "meeting", and the call's page, the meeting's page, the entries' pages and the figures show them."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import AuditEvent, CallKind, Channel, Entry, EntryStatus, Meeting, MeetingKind
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services import meetings as meeting_service
from contest.services.entries import EntryData, staff_entry
from contest.services.results import figures
from tests.helpers import (
    count_rows,
    csrf_token,
    log_in,
    log_out,
    make_call,
    make_organiser,
    make_user,
    post_form,
    zh,
)


@pytest.fixture
def district(city):
    from contest.models import DepartmentKind
    from tests.helpers import make_department

    return make_department("徐汇区", DepartmentKind.DISTRICT, city, name_en="Xuhui District")


def meeting_form(**fields) -> dict:
    two_days_ago = (utcnow() - timedelta(days=2)).strftime("%Y-%m-%dT14:30")
    data = {"title": "田林十二村长桌会", "kind": "long_table", "held_at": two_days_ago, "place_id": "0",
            "venue": "田林街道社区文化活动中心", "attendees": "24", "organisations": "田林街道办事处\n\n 居委会 \n",
            "minutes": "## 会议纪要\n\n居民提出**加装电梯**与增加座椅。"}
    data.update(fields)
    return data


def suggestion_form(call, **fields) -> dict:
    data = {"suggestion-title": "增加长椅", "suggestion-description": "小区里老人没有地方坐。",
            "suggestion-topic_id": str(call.topics[0].id), "suggestion-place_id": "0",
            "suggestion-author_name": "王阿姨"}
    data.update(fields)
    return data


def post_suggestion(client, meeting, data):
    page = f"/console/meetings/{meeting.id}"
    return client.post(f"{page}/suggestions", data={**data, "suggestion-csrf_token": csrf_token(client, page)})


def record_meeting(client, call, **fields) -> Meeting:
    response = post_form(client, f"/console/calls/{call.id}/meetings", meeting_form(**fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(Meeting).order_by(Meeting.id.desc())).first()


def test_a_meeting_with_three_suggestions_shows_on_the_call_page_and_in_the_figures(
        organiser_client, idea_call, district, transport_organiser):
    meeting = record_meeting(organiser_client, idea_call, place_id=str(district.id))
    assert (meeting.kind, meeting.attendees, meeting.place_id) == (MeetingKind.LONG_TABLE, 24, district.id)
    assert meeting.organisations == "田林街道办事处\n居委会"  # one a line, blank lines dropped
    assert meeting.held_at.hour == 6  # 14:30 in Shanghai is 06:30 UTC
    for title in ("增加长椅", "加装电梯", "改造口袋花园"):
        response = post_suggestion(organiser_client, meeting, suggestion_form(idea_call, **{"suggestion-title": title}))
        assert response.status_code == 302, response.get_data(as_text=True)
    entries = db.session.scalars(select(Entry).order_by(Entry.id)).all()
    assert [(e.channel, e.meeting_id, e.status, e.author_name, e.entered_by_id) for e in entries] == [
        (Channel.MEETING, meeting.id, EntryStatus.APPROVED, "王阿姨", transport_organiser.id)] * 3
    assert entries[0].scans == []  # the meeting's minutes stand for the original

    visitor = organiser_client.application.test_client()
    page = visitor.get(f"/calls/{idea_call.id}").get_data(as_text=True)
    assert "田林十二村长桌会" in page and f"/meetings/{meeting.id}" in page
    assert zh("Long-table talk") in page and "徐汇区" in page
    meeting_page = visitor.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "<strong>加装电梯</strong>" in meeting_page  # the minutes, as Markdown
    assert "<li>居委会</li>" in meeting_page
    assert all(title in meeting_page for title in ("增加长椅", "加装电梯", "改造口袋花园"))
    entry_page = visitor.get(f"/entries/{entries[0].id}").get_data(as_text=True)
    assert zh("Raised at:") in entry_page and f"/meetings/{meeting.id}" in entry_page

    assert figures(idea_call).by_channel == [("meeting", 3)]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("meeting.create") == 1 and actions.count("entry.staff_enter") == 3
    logged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "entry.staff_enter")).first()
    assert logged.detail["meeting_id"] == meeting.id


def test_the_call_page_runs_one_more_query_for_its_meetings(organiser_client, idea_call, count_queries):
    visitor = organiser_client.application.test_client()
    visitor.get(f"/calls/{idea_call.id}")
    with count_queries() as without:
        visitor.get(f"/calls/{idea_call.id}")
    for n in range(4):
        record_meeting(organiser_client, idea_call, title=f"长桌会{n}")
    with count_queries() as with_four:
        html = visitor.get(f"/calls/{idea_call.id}").get_data(as_text=True)
    assert "长桌会3" in html
    assert with_four.n == without.n


def test_minutes_are_sanitised(organiser_client, idea_call):
    meeting = record_meeting(organiser_client, idea_call,
                             minutes='纪要<script>alert(1)</script> <a href="javascript:alert(2)">链接</a>')
    response = organiser_client.application.test_client().get(f"/meetings/{meeting.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "纪要" in html and "链接" in html
    assert "<script>alert(1)" not in html and "javascript:" not in html


def test_editing_a_meeting_is_logged_with_what_it_was(organiser_client, idea_call):
    meeting = record_meeting(organiser_client, idea_call)
    response = post_form(organiser_client, f"/console/meetings/{meeting.id}",
                         meeting_form(attendees="30", kind="panel", title="田林十二村听证会"))
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert (meeting.attendees, meeting.kind, meeting.title) == (30, MeetingKind.PANEL, "田林十二村听证会")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "meeting.edit")).one()
    assert event.detail["before"] == {"attendees": 24, "kind": "long_table", "title": "田林十二村长桌会"}
    page = organiser_client.get(f"/console/meetings/{meeting.id}").get_data(as_text=True)
    assert 'value="30"' in page


@pytest.mark.parametrize("fields,message", [
    ({"attendees": "-3"}, "Give the number of attendees as a whole number, 0 or more."),
    ({"attendees": "many"}, "Give the number of attendees as a whole number, 0 or more."),
    ({"title": "   "}, "Give the meeting a title."),
    ({"held_at": ""}, "Give the date and time of the meeting."),
    ({"place_id": "999999"}, "Unknown place."),
])
def test_a_bad_meeting_is_refused_with_a_clear_message(organiser_client, idea_call, fields, message):
    response = post_form(organiser_client, f"/console/calls/{idea_call.id}/meetings", meeting_form(**fields))
    assert response.status_code == 400
    assert zh(message) in response.get_data(as_text=True)
    assert count_rows(Meeting) == 0


def test_a_bad_edit_changes_nothing(organiser_client, idea_call):
    meeting = record_meeting(organiser_client, idea_call)
    response = post_form(organiser_client, f"/console/meetings/{meeting.id}", meeting_form(attendees="-1",
                                                                                           title="改了"))
    assert response.status_code == 400
    db.session.refresh(meeting)
    assert (meeting.attendees, meeting.title) == (24, "田林十二村长桌会")


def test_forms_without_a_csrf_token_change_nothing(organiser_client, idea_call):
    assert organiser_client.post(f"/console/calls/{idea_call.id}/meetings", data=meeting_form()).status_code == 400
    assert count_rows(Meeting) == 0
    meeting = record_meeting(organiser_client, idea_call)
    response = organiser_client.post(f"/console/meetings/{meeting.id}/suggestions", data=suggestion_form(idea_call))
    assert response.status_code == 400
    assert count_rows(Entry) == 0


@pytest.mark.parametrize("fields,message", [
    ({"suggestion-title": ""}, "Give the suggestion a title."),
    ({"suggestion-topic_id": "0"}, "Choose the topic of your idea."),
    ({"suggestion-description": " "}, "Write your idea."),
])
def test_a_bad_suggestion_is_refused(organiser_client, idea_call, fields, message):
    meeting = record_meeting(organiser_client, idea_call)
    response = post_suggestion(organiser_client, meeting, suggestion_form(idea_call, **fields))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert zh(message) in html
    assert 'value="田林十二村长桌会"' in html  # the meeting's own form beside it still shows the meeting
    assert count_rows(Entry) == 0


def test_no_suggestion_before_the_meeting_is_held_or_after_the_call_closes(organiser_client, idea_call):
    later = (utcnow() + timedelta(days=3)).astimezone().strftime("%Y-%m-%dT%H:%M")
    meeting = record_meeting(organiser_client, idea_call, held_at=later)
    response = post_suggestion(organiser_client, meeting, suggestion_form(idea_call))
    assert response.status_code == 400
    assert zh("This meeting has not been held yet: suggestions can be added once it has.") in \
        response.get_data(as_text=True)
    held = record_meeting(organiser_client, idea_call)
    idea_call.closes_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert post_suggestion(organiser_client, held, suggestion_form(idea_call)).status_code == 400
    assert count_rows(Entry) == 0


def test_a_meeting_of_another_call_cannot_take_the_entry(app, idea_call, transport_commission, transport_organiser):
    other = make_call(transport_commission, kind=CallKind.IDEA, title="口袋公园", images_min=0)
    with app.test_request_context():
        meeting = meeting_service.create_meeting(transport_organiser, other, meeting_service.MeetingData(
            title="口袋公园座谈", kind=MeetingKind.PANEL, held_at=utcnow() - timedelta(days=1)))
        with pytest.raises(ServiceError):
            staff_entry(transport_organiser, idea_call, channel=Channel.MEETING, meeting=meeting, uploads=[],
                        scans=[], data=EntryData(title="座椅", description="多放座椅", topic_id=idea_call.topics[0].id))
    db.session.rollback()
    assert count_rows(Entry) == 0


def test_only_the_calls_organisers_record_meetings(client, idea_call, city, transport_organiser, citizen):
    from contest.models import DepartmentKind
    from tests.helpers import make_department

    with client.application.test_request_context():
        meeting = meeting_service.create_meeting(transport_organiser, idea_call, meeting_service.MeetingData(
            title="长桌会", kind=MeetingKind.LONG_TABLE, held_at=utcnow() - timedelta(days=1), attendees=5))
    db.session.commit()
    planning = make_department("上海市规划和自然资源局", DepartmentKind.AGENCY, city)
    outsider = make_organiser(planning, "planning@example.org")
    for person in (citizen, outsider):
        log_in(client, person.email)
        assert client.get(f"/console/calls/{idea_call.id}/meetings").status_code == 403
        assert client.get(f"/console/meetings/{meeting.id}").status_code == 403
        token_page = "/account/profile"
        assert post_form(client, f"/console/calls/{idea_call.id}/meetings", meeting_form(),
                         page=token_page).status_code == 403
        assert post_form(client, f"/console/meetings/{meeting.id}", meeting_form(attendees="99"),
                         page=token_page).status_code == 403
        response = client.post(f"/console/meetings/{meeting.id}/suggestions", data={
            **suggestion_form(idea_call), "suggestion-csrf_token": csrf_token(client, token_page)})
        assert response.status_code == 403
        log_out(client)
    db.session.refresh(meeting)
    assert (count_rows(Meeting), meeting.attendees, count_rows(Entry)) == (1, 5, 0)
    with client.application.test_request_context(), pytest.raises(ServiceError):
        meeting_service.create_meeting(citizen, idea_call, meeting_service.MeetingData(
            title="x", kind=MeetingKind.OTHER, held_at=utcnow()))
    log_in(client, transport_organiser.email)
    assert client.get("/console/meetings/999999").status_code == 404


def test_the_meeting_of_a_draft_call_is_hidden(client, transport_commission, transport_organiser):
    draft = make_call(transport_commission, kind=CallKind.IDEA, state="draft", images_min=0)
    with client.application.test_request_context():
        meeting = meeting_service.create_meeting(transport_organiser, draft, meeting_service.MeetingData(
            title="筹备会", kind=MeetingKind.WORKSHOP, held_at=utcnow()))
    db.session.commit()
    assert client.get(f"/meetings/{meeting.id}").status_code == 404
    log_in(client, make_user("someone@example.org").email)
    assert client.get(f"/meetings/{meeting.id}").status_code == 404
    staff = client.application.test_client()
    log_in(staff, transport_organiser.email)
    assert staff.get(f"/meetings/{meeting.id}").status_code == 200


def test_a_meeting_written_in_both_languages_shows_the_visitors(organiser_client, idea_call):
    meeting = record_meeting(organiser_client, idea_call, title_en="Long-table talk in Tianlin estate 12",
                             minutes_en="## Minutes\n\nResidents asked for **lifts** and more benches.")
    visitor = organiser_client.application.test_client()
    visitor.get("/lang/en")
    english = visitor.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "<h1>Long-table talk in Tianlin estate 12</h1>" in english and "<strong>lifts</strong>" in english
    assert "田林十二村长桌会" not in english.split("</head>")[1]
    visitor.get("/lang/zh")
    chinese = visitor.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "<h1>田林十二村长桌会</h1>" in chinese and "<strong>加装电梯</strong>" in chinese
    chinese_only = record_meeting(organiser_client, idea_call, title="田林长桌会")
    visitor.get("/lang/en")
    marked = visitor.get(f"/meetings/{chinese_only.id}").get_data(as_text=True)
    assert '<h1><span lang="zh-Hans">田林长桌会</span></h1>' in marked
    assert '<div lang="zh-Hans"><h2>会议纪要</h2>' in marked
