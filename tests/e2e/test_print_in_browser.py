"""The call page, the results page and a QR poster as a printer gets them: no menus, forms or buttons; the
content whole, on A4, with no picture cut off. Each is also printed to PDF under test-artifacts/."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contest.extensions import db
from contest.models import Prize
from contest.models.types import utcnow
from contest.services import results
from contest.services.media import process_uploads, store_image
from contest.services.posters import create_poster
from tests.e2e.pages import load_images
from tests.helpers import PASSWORD, approved_entries, make_call, make_public_round, make_voter, picture_bytes, zh

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MM = 96 / 25.4  # CSS pixels in a millimetre
A4_POINTS = (595, 842)
LINKED = "https://ghzyj.sh.gov.cn/"

# What a printed page leaves out.
SCREEN_ONLY = "nav, footer, form, button, .button, .skip-link, .lang-switch, .flashes"


def log_in(page, base, email):
    page.goto(base + "/account/login")
    page.get_by_label(zh("E-mail address")).fill(email)
    page.get_by_label(zh("Password")).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("status")).to_contain_text(zh("You are logged in."))




def check_printed(page, name: str, margin_mm: float) -> bytes:
    """Check the page as printed on A4 with these margins, print it to PDF and return the PDF."""
    width, height = (210 - 2 * margin_mm) * MM, (297 - 2 * margin_mm) * MM
    page.set_viewport_size({"width": int(width), "height": int(height)})
    page.emulate_media(media="print")
    shown = page.evaluate("""selector => [...document.querySelectorAll(selector)]
        .filter(el => el.getClientRects().length > 0).map(el => el.outerHTML.slice(0, 100))""", SCREEN_ONLY)
    assert shown == [], f"{name}: printed, yet meant for the screen: {shown}"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    load_images(page)
    for box in page.evaluate("""() => [...document.querySelectorAll('main img, main svg')]
            .filter(el => el.getClientRects().length > 0)
            .map(el => { const r = el.getBoundingClientRect(); return [el.outerHTML.slice(0, 80), r.left, r.right,
                                                                       r.height]; })"""):
        html, left, right, tall = box
        assert left >= 0 and right <= width + 1, f"{name}: {html} runs off the page's width"
        assert tall <= height, f"{name}: {html} is taller than a page"
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / f"print-{name}.pdf"), prefer_css_page_size=True)
    sizes = {tuple(round(float(n)) for n in box.split()[2:4])
             for box in re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", pdf)
             for box in [box.decode()]}
    assert sizes == {A4_POINTS}, f"{name}: printed on {sizes}, not A4"
    return pdf


def pages_in(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def test_the_call_the_results_and_a_poster_print_cleanly(app, live_server, browser, transport_commission,
                                                         transport_organiser):
    # An open call with a tall cover picture, a linked brief, prizes and a votes round.
    open_call = make_call(transport_commission, title="口袋公园",
                          brief=f"## 要求\n\n请参考[上海市规划和自然资源局]({LINKED})的导则。")
    with app.test_request_context():
        processed = process_uploads([picture_bytes(7, size=(900, 1600))], formats=["JPEG"], max_mb=5)
        open_call.cover_image = store_image(processed[0], transport_organiser)
    open_call.cover_alt = "街角的一处口袋公园"
    open_call.prizes = [Prize(name="一等奖", count=1, reward="一万元", position=0)]
    make_public_round(open_call, transport_organiser, mode="votes")
    with app.test_request_context(base_url=live_server):
        poster = create_poster(transport_organiser, open_call, label="天钥桥路红色信箱")
    db.session.commit()

    # A call whose public's ranking is published, in its notice period (so citizens see the objection form).
    done_call = make_call(transport_commission, title="道路栏杆请您绘")
    done_call.expert_weight, done_call.public_weight = 0, 100
    done_call.prizes = [Prize(name="一等奖", count=1, position=0), Prize(name="二等奖", count=2, position=1)]
    approved_entries(done_call, 4)
    votes = make_public_round(done_call, transport_organiser, mode="votes")
    votes.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with app.test_request_context():
        results.publish(transport_organiser, done_call, 7, None)
    db.session.commit()
    open_id, done_id, poster_id = open_call.id, done_call.id, poster.id
    make_voter("reader@example.org")

    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, live_server, "reader@example.org")
        page.goto(f"{live_server}/calls/{open_id}")
        check_printed(page, "call", margin_mm=15)
        expect(page.get_by_role("img", name="街角的一处口袋公园")).to_be_visible()
        expect(page.get_by_text(zh("Timeline"))).to_be_visible()
        expect(page.get_by_role("img", name=zh("The call's journey"))).to_be_visible()  # printed whole, as checked
        after = page.get_by_role("link", name="上海市规划和自然资源局").evaluate(
            "a => getComputedStyle(a, '::after').content")
        assert LINKED in after, "a link of the brief prints without its address"
        expect(page.locator(".print-only")).to_contain_text(f"{live_server}/calls/{open_id}")

        page.goto(f"{live_server}/calls/{done_id}/results")
        page.emulate_media(media="screen")
        expect(page.get_by_role("button", name=zh("File the objection"))).to_be_visible()
        check_printed(page, "results", margin_mm=15)
        expect(page.get_by_role("table").first).to_be_visible()
        expect(page.locator(".print-only")).to_contain_text(f"{live_server}/calls/{done_id}/results")

        context.close()
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        log_in(page, live_server, transport_organiser.email)
        page.goto(f"{live_server}/console/posters/{poster_id}")
        pdf = check_printed(page, "poster", margin_mm=12)
        expect(page.locator(".poster-qr svg")).to_be_visible()
        expect(page.get_by_text(zh("Print this page from your browser on A4, portrait, or print the PNG or the PDF.")
                                )).to_be_hidden()
        assert pages_in(pdf) == 1, "the poster takes more than one sheet"
    finally:
        context.close()
