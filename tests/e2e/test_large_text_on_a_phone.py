"""The larger text sizes on a phone: the call page, the gallery and the entry form grow without scrolling sideways,
keep their line spacing, and axe finds nothing serious there, in Chinese and in English."""
from pathlib import Path

import pytest

from tests.e2e.pages import AXE
from tests.e2e.test_entry_in_browser import log_in
from tests.helpers import approved_entries, make_call

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_pass_only]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "large-text"
RUN_AXE = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter(v => v.impact === "serious" || v.impact === "critical").map(v => v.id + ": " + v.help)"""
LAYOUT = """() => ({scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth,
  rootSize: parseFloat(getComputedStyle(document.documentElement).fontSize),
  lineHeight: parseFloat(getComputedStyle(document.body).lineHeight)
    / parseFloat(getComputedStyle(document.body).fontSize),
  wide: [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(e => e.tagName + '.' + e.className)})"""


@pytest.mark.parametrize("size,root_px", [("large", 20), ("larger", 24)])
def test_large_text_on_a_phone_never_scrolls_sideways(app, live_server, browser, citizen, transport_commission,
                                                      size, root_px):
    call = make_call(transport_commission, title="道路栏杆请您绘：为城市的主干道设计一组新的护栏图案",
                     summary="为城市道路栏杆设计新图案，体现海派文化与城市记忆。")
    approved_entries(call, 4)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                  has_touch=True)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    try:
        log_in(page, live_server, citizen.email)
        page.goto(f"{live_server}/text-size/{size}")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for language in ("zh", "en"):
            page.goto(f"{live_server}/lang/{language}")
            for name, path in (("call", f"/calls/{call.id}"), ("gallery", f"/calls/{call.id}/entries"),
                               ("entry-form", f"/calls/{call.id}/enter")):
                response = page.goto(live_server + path)
                assert response.status == 200, path
                layout = page.evaluate(LAYOUT)
                assert layout["rootSize"] == root_px, (path, layout)
                assert layout["scrollWidth"] <= layout["width"], (size, language, path, layout["wide"])
                assert layout["lineHeight"] >= 1.5, (path, layout)
                assert page.evaluate(RUN_AXE) == [], (size, language, path)
                page.screenshot(path=str(ARTIFACTS / f"{name}-{size}-{language}.png"), full_page=True)
    finally:
        context.close()
