"""Ideas on the map, in a real browser on a phone-sized window: a citizen places an idea by tapping the map (the
point's fields fill in, the district is read from it), the call's map shows it once approved, "within a
15-minute walk" of a point lists it with its distance, and the page passes axe and works by keyboard through the
list. Screenshots in test-artifacts/map/."""
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from contest.extensions import db
from contest.models import DepartmentKind, Entry
from contest.services.entries import moderate
from tests.e2e.pages import AXE
from tests.helpers import make_department, make_user, zh

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "map"
PHONE = {"width": 390, "height": 844}
RUN_AXE = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .map(v => ({id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(" "))}))"""


def log_in(page, base, email):
    page.goto(base + "/account/login")
    page.get_by_label(zh("E-mail address")).fill(email)
    page.get_by_label(zh("Password")).fill("correct horse battery")
    page.get_by_role("main").get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("status")).to_contain_text(zh("You are logged in."))


def test_a_citizen_places_an_idea_by_tapping_the_map_and_finds_it_within_a_walk(app, live_server, browser, citizen,
                                                                                city, idea_call):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in ("徐汇区", "黄浦区", "静安区", "普陀区", "长宁区", "虹口区"):
        make_department(name, DepartmentKind.DISTRICT, city)
    call_id = idea_call.id
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.add_init_script(path=str(AXE))  # before the page's scripts, so the CSP stays as it is
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    log_in(page, live_server, citizen.email)
    page.goto(f"{live_server}/calls/{call_id}/enter")
    page.get_by_label(zh("Title")).fill("口袋公园里的长椅")
    page.get_by_label(zh("Topic")).select_option(index=1)
    page.get_by_label(zh("Description")).fill("在街角的口袋公园放几张有靠背的长椅。")
    picker = page.locator("[data-picker]")
    expect(picker).to_be_visible()
    page.wait_for_selector("[data-picker] path.leaflet-interactive, [data-picker] svg path")
    box = picker.bounding_box()
    picker.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    lat, lng = float(page.locator("#lat").input_value()), float(page.locator("#lng").input_value())
    assert 30.6 < lat < 31.9 and 120.8 < lng < 122.2, (lat, lng)
    page.get_by_label(zh("Address")).fill("街角口袋公园")
    page.screenshot(path=str(ARTIFACTS / "enter-zh.png"), full_page=True)
    page.get_by_label(zh("I accept the licence terms and declare that this suggestion is my own.")).check()
    page.get_by_role("button", name=zh("Send suggestion")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("My entries"))

    db.session.rollback()  # read what the live server wrote
    entry = db.session.scalar(select(Entry))
    assert (entry.lat, entry.lng) == (lat, lng) and entry.place is not None
    assert entry.place.kind is DepartmentKind.DISTRICT
    moderate(make_user("mod@example.org", admin=True), [entry], approve=True)
    db.session.commit()

    page.goto(f"{live_server}/calls/{call_id}/map")
    page.wait_for_selector(".map-cluster")
    page.screenshot(path=str(ARTIFACTS / "map-zh.png"), full_page=True)
    near = f"{lat + 0.003:.6f},{lng:.6f}"  # about 330 m north of it
    page.get_by_label(zh("Within a walk of (latitude,longitude)")).fill(near)
    page.get_by_role("button", name=zh("Show what is within the walk")).click()
    item = page.locator(".place-list li").first
    expect(item).to_contain_text("口袋公园里的长椅")
    metres = int(item.locator(".distance").inner_text().split()[0])
    assert 300 <= metres <= 360, metres
    page.wait_for_selector(".map-cluster")
    page.screenshot(path=str(ARTIFACTS / "walk-zh.png"), full_page=True)
    serious = [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")]
    assert serious == []

    # By keyboard: Tab reaches the list's link, Enter opens the idea.
    link = page.locator(".place-list a").first
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.matches('.place-list a')"):
            break
    assert page.evaluate("() => document.activeElement.textContent") == link.inner_text()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("口袋公园里的长椅")

    page.goto(f"{live_server}/lang/en")
    page.goto(f"{live_server}/calls/{call_id}/map?near={near}")
    page.wait_for_selector(".map-cluster")
    page.screenshot(path=str(ARTIFACTS / "walk-en.png"), full_page=True)
    assert [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")] == []
    assert problems == []


def test_built_objects_meeting_places_and_the_districts_statistics_on_a_phone(app, live_server, browser, city,
                                                                              idea_call, transport_organiser):
    """The built object within a walk, a meeting's place and the statistics page's districts, in both languages
    at phone width: shown, passing axe, and photographed."""
    from datetime import timedelta

    from contest.models import MeetingKind
    from contest.models.types import utcnow
    from contest.services.entries import EntryData, submit_entry
    from contest.services.meetings import MeetingData, create_meeting
    from tests.helpers import adopt

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in ("徐汇区", "黄浦区", "静安区", "浦东新区", "杨浦区"):
        make_department(name, DepartmentKind.DISTRICT, city)
    author = make_user("author@example.org")
    idea_call.entries_per_person = 20
    points = [(31.1886, 121.4368), (31.1900, 121.4390), (31.1850, 121.4330), (31.2304, 121.4737),
              (31.2397, 121.4998), (31.3000, 121.5000)]
    with app.test_request_context():
        entries = [submit_entry(author, idea_call, EntryData(title=f"长椅和树荫 {n}", description="多一些座椅。",
                                                             topic_id=idea_call.topics[0].id, lat=lat, lng=lng),
                                [], accepted_terms=True) for n, (lat, lng) in enumerate(points)]
        moderate(make_user("mod@example.org", admin=True), entries, approve=True)
        db.session.commit()
    follow_up = adopt(entries[0], transport_organiser)
    follow_up.lat, follow_up.lng, follow_up.address = 31.1920, 121.4400, "徐家汇公园东门"
    with app.test_request_context():
        meeting = create_meeting(transport_organiser, idea_call, MeetingData(
            title="田林长桌会", kind=MeetingKind.LONG_TABLE, held_at=utcnow() - timedelta(days=2),
            venue="田林街道社区文化活动中心", lat=31.1705, lng=121.4310, attendees=20))
    db.session.commit()
    call_id, meeting_id = idea_call.id, meeting.id

    for locale, lang in (("zh-CN", "zh"), ("en-GB", "en")):
        context = browser.new_context(viewport=PHONE, locale=locale)
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        problems = []
        page.on("pageerror", lambda error, problems=problems: problems.append(str(error)))
        page.goto(f"{live_server}/lang/{lang}")
        page.goto(f"{live_server}/calls/{call_id}/map?near=31.1886,121.4368")
        expect(page.locator(".built-list li").first).to_contain_text("长椅和树荫 0")
        page.wait_for_selector(".map-built")
        page.screenshot(path=str(ARTIFACTS / f"built-{lang}.png"), full_page=True)
        assert [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")] == []
        page.goto(f"{live_server}/meetings/{meeting_id}")
        page.wait_for_selector("[data-point-map] path.leaflet-interactive")
        expect(page.locator("[data-point-map]")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / f"meeting-{lang}.png"), full_page=True)
        assert [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")] == []
        page.goto(f"{live_server}/statistics")
        districts = page.locator("svg.districts")
        expect(districts).to_be_visible()
        districts.scroll_into_view_if_needed()
        assert page.locator('svg.districts [data-district="徐汇区"]').get_attribute("data-step") == "3"  # the most
        page.locator("section[aria-labelledby=districts-heading]").screenshot(
            path=str(ARTIFACTS / f"statistics-{lang}.png"))
        assert [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")] == []
        assert problems == []
        context.close()
