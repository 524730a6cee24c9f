"""The statistics page in a real browser: Chart.js draws every chart (under the site's CSP, from the page's JSON
block), the tables beside them show the same numbers, and the charts speak the page's language: in English every
label is English, in Chinese they are Chinese. A screenshot is kept in test-artifacts/statistics.png."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contest.extensions import db
from contest.models import (
    CallKind,
    Channel,
    DepartmentKind,
    Entry,
    EntryStatus,
    FollowUp,
    FollowUpStage,
    ParticipantGroup,
)
from contest.models.types import utcnow
from tests.helpers import make_call, make_department, make_user

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
CHARTS = ("channel", "group", "place", "organiser", "month")

# Every chart's labels, dataset labels and whether its canvas holds drawn (non-blank) pixels.
READ_CHARTS = """() => [...document.querySelectorAll('canvas[data-chart]')].map(canvas => {
    const chart = window.Chart && window.Chart.getChart(canvas);
    const context = canvas.getContext('2d');
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let drawn = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) drawn++; }
    return {name: canvas.dataset.chart, drawn, visible: canvas.offsetHeight > 0,
            labels: chart ? chart.data.labels : null,
            datasets: chart ? chart.data.datasets.map(d => d.label) : null,
            data: chart ? chart.data.datasets[0].data : null,
            role: canvas.getAttribute('role'), summary: canvas.getAttribute('aria-label')};
})"""


@pytest.fixture
def figures(app, city, transport_commission, planning_bureau):
    """Two calls with entries on several channels, from several groups, about several places, over months."""
    xuhui = make_department("徐汇区", DepartmentKind.DISTRICT, city, name_en="Xuhui District")
    tianlin = make_department("田林街道", DepartmentKind.STREET, xuhui, name_en="Tianlin Street")
    railing = make_call(transport_commission, title="道路栏杆请您绘", state="closed", co_departments=[xuhui])
    railing.results_published_at = utcnow()
    circle = make_call(planning_bureau, kind=CallKind.IDEA, title="15分钟社区生活圈", images_min=0)
    people = [make_user(f"p{n}@example.org", group=g) for n, g in enumerate(ParticipantGroup)]
    channels = list(Channel)
    now = utcnow()
    for i in range(24):
        entry = Entry(call=railing if i % 2 else circle, author=people[i % 4] if i % 6 else None,
                      author_name="", channel=channels[i % len(channels)],
                      status=EntryStatus.APPROVED if i % 5 else EntryStatus.REJECTED, title=f"作品{i}",
                      place=[None, xuhui, tianlin][i % 3], created_at=now - timedelta(days=31 * (i % 7)))
        db.session.add(entry)
        if i in (1, 3):
            db.session.add(FollowUp(call=railing, entry=entry, progress=0,
                                    stage=FollowUpStage.IMPLEMENTED if i == 1 else FollowUpStage.ADOPTED))
    db.session.commit()


def open_statistics(browser, base, language, width=1024):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  locale="en-GB" if language == "en" else "zh-CN")
    page = context.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{base}/lang/{language}")
    page.goto(f"{base}/statistics")
    page.wait_for_function("() => window.Chart && document.querySelectorAll('canvas[data-chart]').length === 5"
                           " && [...document.querySelectorAll('canvas[data-chart]')]"
                           ".every(c => window.Chart.getChart(c))")
    return page, problems


def table_numbers(page, name):
    return [int(n) for n in page.locator(f"#table-{name} tbody td:nth-child(2)").all_inner_texts()]


def test_the_charts_are_drawn_and_speak_english(app, live_server, browser, figures):
    page, problems = open_statistics(browser, live_server, "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistics")
    charts = page.evaluate(READ_CHARTS)
    assert [c["name"] for c in charts] == list(CHARTS)
    for chart in charts:
        assert chart["visible"] and chart["drawn"] > 500, chart["name"]  # the canvas is really drawn
        assert chart["role"] == "img" and chart["summary"].startswith("Chart: ")
        assert chart["data"] == table_numbers(page, chart["name"])  # the table beside it: the same numbers
        english = chart["labels"] + chart["datasets"] + [chart["summary"]]
        assert [label for label in english if CJK.search(label)] == [], chart["name"]
    channel = next(c for c in charts if c["name"] == "channel")
    assert "Poster (QR code)" in channel["labels"] and "Meeting" in channel["labels"]
    assert "Xuhui District" in next(c for c in charts if c["name"] == "place")["labels"]
    # The tables stay visible beside the charts, with their captions.
    for name in CHARTS:
        expect(page.locator(f"#table-{name}")).to_be_visible()
        expect(page.locator(f"#table-{name} caption")).not_to_be_empty()
    assert problems == []  # no CSP violation, no script error
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "statistics.png"), full_page=True)
    page.context.close()


def test_in_chinese_on_a_phone_the_charts_are_chinese(app, live_server, browser, figures):
    page, problems = open_statistics(browser, live_server, "zh", width=390)
    charts = page.evaluate(READ_CHARTS)
    for chart in charts:
        assert chart["drawn"] > 500, chart["name"]
        labels = chart["labels"] + chart["datasets"] + [chart["summary"]]
        assert [label for label in labels if not CJK.search(label)] == [], chart["name"]
    assert problems == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "statistics-zh-phone.png"), full_page=True)
    page.context.close()
