"""Organisers make calls; visitors find them; a call opens and closes by its dates alone."""
from datetime import timedelta

from sqlalchemy import select

from contest.extensions import db
from contest.models import Call, CallEvent, CallKind, CallState
from contest.models.types import utcnow
from contest.services.calls import timeline
from tests.helpers import io_bytes, log_in, make_call, make_organiser, picture_bytes, post_form, zh

CALL_FORM = {
    "kind": "design", "title": "道路栏杆请您绘", "summary": "为道路栏杆设计图案。",
    "brief": "## 背景\n\n**七百公里**栏杆。",
    "themes": "红色文化，海派文化、江南文化", "topics": "", "prizes": "一等奖 | 1 | 两万元\n优秀奖 | 5 | 证书",
    "image_formats": ["JPEG", "PNG"], "images_min": "1", "images_max": "3", "image_max_mb": "5",
    "entries_per_person": "2", "licence_text": "CC BY 4.0", "originality_text": "原创声明",
    "opens_at": "2026-01-01T09:00", "closes_at": "2099-12-31T18:00", "cover_alt": "",
}


def test_an_organiser_creates_and_publishes_a_call(client, transport_organiser, transport_commission):
    log_in(client, transport_organiser.email)
    response = post_form(client, f"/console/{transport_commission.id}/calls/new", CALL_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)
    call = db.session.scalar(select(Call))
    assert call.state is CallState.DRAFT
    assert call.theme_names == ["红色文化", "海派文化", "江南文化"]
    assert [(p.name, p.count) for p in call.prizes] == [("一等奖", 1), ("优秀奖", 5)]
    assert call.opens_at.hour == 1  # 09:00 in Shanghai is 01:00 UTC
    assert client.application.test_client().get(f"/calls/{call.id}").status_code == 404  # drafts are private
    post_form(client, f"/console/calls/{call.id}/publish", page=f"/console/calls/{call.id}/")
    db.session.refresh(call)
    assert call.state is CallState.OPEN
    page = client.application.test_client().get(f"/calls/{call.id}").get_data(as_text=True)
    assert "<strong>七百公里</strong>" in page and "海派文化" in page


def test_the_brief_is_sanitised(client, transport_commission):
    brief = "<script>alert(1)</script>[x](javascript:alert(1)) <b onclick=x>hi</b>"
    call = make_call(transport_commission, brief=brief)
    response = client.get(f"/calls/{call.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and call.title in html
    assert "alert(1)" not in html and "onclick" not in html and "javascript:" not in html


def test_a_call_opens_and_closes_by_its_dates(app, transport_commission):
    call = make_call(transport_commission, state="upcoming")
    assert call.state is CallState.UPCOMING
    assert call.state_at(call.opens_at + timedelta(seconds=1)) is CallState.OPEN
    assert call.state_at(call.closes_at) is CallState.CLOSED
    kinds = [item.kind for item in timeline(call, now=call.closes_at + timedelta(days=1))]
    assert kinds == ["opens", "closes"]


def test_changing_the_dates_of_a_published_call_is_dated_on_its_timeline(client, transport_organiser,
                                                                          transport_commission):
    call = make_call(transport_commission)
    log_in(client, transport_organiser.email)
    form = dict(CALL_FORM, opens_at="2026-01-01T09:00", closes_at="2099-06-30T18:00")
    assert post_form(client, f"/console/calls/{call.id}/edit", form).status_code == 302
    events = db.session.scalars(select(CallEvent).where(CallEvent.call_id == call.id)).all()
    assert [e.kind for e in events] == ["dates_changed"]


def test_a_joint_call_is_editable_by_each_department_and_no_other(client, transport_commission, planning_bureau,
                                                                   city):
    from contest.models import DepartmentKind
    from tests.helpers import make_department

    road_bureau = make_department("上海市道路运输管理局", DepartmentKind.AGENCY, city)
    call = make_call(transport_commission, co_departments=[road_bureau])
    road = make_organiser(road_bureau, "road@example.org")
    planner = make_organiser(planning_bureau, "planner@example.org")
    log_in(client, road.email)
    assert client.get(f"/console/calls/{call.id}/edit").status_code == 200
    other = client.application.test_client()
    log_in(other, planner.email)
    assert other.get(f"/console/calls/{call.id}/edit").status_code == 403
    assert post_form(other, f"/console/calls/{call.id}/edit", CALL_FORM,
                     page=f"/calls/{call.id}").status_code == 403
    db.session.refresh(call)
    assert call.title == "道路栏杆请您绘"


def test_an_organiser_cannot_create_a_call_for_another_department(client, transport_organiser, planning_bureau):
    log_in(client, transport_organiser.email)
    assert client.get(f"/console/{planning_bureau.id}/calls/new").status_code == 403


def test_invalid_rules_are_refused_with_a_message(client, transport_organiser, transport_commission):
    log_in(client, transport_organiser.email)
    form = dict(CALL_FORM, images_min="4", images_max="2")
    response = post_form(client, f"/console/{transport_commission.id}/calls/new", form)
    assert response.status_code == 200
    assert db.session.scalar(select(Call)) is None


def test_the_list_shows_open_calls_first_and_filters(client, transport_commission, planning_bureau):
    make_call(transport_commission, title="已结束的栏杆征集", state="closed")
    make_call(planning_bureau, title="15分钟社区生活圈", kind=CallKind.IDEA)
    make_call(transport_commission, title="尚未发布", state="draft")
    html = client.get("/calls").get_data(as_text=True)
    assert html.index("15分钟社区生活圈") < html.index("已结束的栏杆征集")
    assert "尚未发布" not in html
    open_calls = client.get("/calls?state=open")
    assert open_calls.status_code == 200 and "15分钟社区生活圈" in open_calls.get_data(as_text=True)
    assert "已结束" not in open_calls.get_data(as_text=True)
    found = client.get("/calls?q=生活圈").get_data(as_text=True)
    assert "15分钟社区生活圈" in found and "已结束的栏杆征集" not in found
    by_department = client.get(f"/calls?department={planning_bureau.id}").get_data(as_text=True)
    assert "15分钟社区生活圈" in by_department and "已结束的栏杆征集" not in by_department


def test_a_cover_image_is_processed_and_served(client, transport_organiser, transport_commission):
    log_in(client, transport_organiser.email)
    form = dict(CALL_FORM, cover=(io_bytes(picture_bytes(5)), "cover.jpg"), cover_alt="栏杆示意图")
    response = post_form(client, f"/console/{transport_commission.id}/calls/new", form,
                         content_type="multipart/form-data")
    assert response.status_code == 302
    call = db.session.scalar(select(Call))
    assert call.cover_image is not None
    served = client.get(f"/media/{call.cover_image_id}/gallery")
    assert served.status_code == 200 and served.content_type == "image/jpeg"
    assert client.application.test_client().get(f"/media/{call.cover_image_id}/gallery").status_code == 404


def test_a_cover_image_needs_its_description_beside_the_field(client, transport_organiser, transport_commission):
    log_in(client, transport_organiser.email)
    form = dict(CALL_FORM, cover=(io_bytes(picture_bytes(5)), "cover.jpg"), cover_alt=" ")
    response = post_form(client, f"/console/{transport_commission.id}/calls/new", form,
                         content_type="multipart/form-data")
    assert response.status_code == 200 and db.session.scalar(select(Call)) is None
    html = response.get_data(as_text=True)
    assert f'id="cover_alt-error"><span>{zh("Describe the cover image for people who cannot see it.")}</span>' in html
    assert 'aria-describedby="cover_alt-error" aria-invalid="true"' in html


def test_a_call_published_in_the_past_is_closed_without_anyone_pressing_a_button(app, transport_commission):
    call = make_call(transport_commission)
    call.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert call.state is CallState.CLOSED
