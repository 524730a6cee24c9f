"""A citizen sends a design with two images; the organiser approves it; it shows in the gallery; the
citizen sees "approved" on "my entries" — in a real browser."""
import pytest
from playwright.sync_api import expect

from tests.helpers import make_call, picture_bytes, zh

pytestmark = pytest.mark.browser


def log_in(page, base, email):
    page.goto(base + "/account/login")
    page.get_by_label(zh("E-mail address")).fill(email)
    page.get_by_label(zh("Password")).fill("correct horse battery")
    page.get_by_role("main").get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("status")).to_contain_text(zh("You are logged in."))


def test_a_design_goes_from_entrant_to_gallery(app, live_server, browser, citizen, transport_organiser,
                                               transport_commission, tmp_path):
    call = make_call(transport_commission, title="道路栏杆请您绘")
    call_id = call.id
    first, second = tmp_path / "railing-1.jpg", tmp_path / "railing-2.jpg"
    first.write_bytes(picture_bytes(61))
    second.write_bytes(picture_bytes(62))

    entrant = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    log_in(entrant, live_server, citizen.email)
    entrant.goto(f"{live_server}/calls/{call_id}")
    entrant.get_by_role("link", name=zh("Send an entry")).click()
    entrant.get_by_label(zh("Title")).fill("玉兰花栏杆")
    entrant.get_by_label(zh("Description")).fill("以市花白玉兰为主题。")
    entrant.locator("#image-1").set_input_files(str(first))
    entrant.locator("#image-1-alt").fill("白色玉兰花排成一行的红色栏杆")
    entrant.locator("#image-2").set_input_files(str(second))
    entrant.locator("#image-2-alt").fill("栏杆安装在道路中央的效果图")
    entrant.get_by_label(zh("I accept the licence terms and declare that this is my own original work.")).check()
    entrant.get_by_role("button", name=zh("Send entry")).click()
    expect(entrant.get_by_role("heading", level=1)).to_have_text(zh("My entries"))
    expect(entrant.get_by_text(zh("Waiting for moderation"))).to_be_visible()

    organiser = browser.new_context(locale="zh-CN").new_page()
    log_in(organiser, live_server, transport_organiser.email)
    organiser.goto(f"{live_server}/console/calls/{call_id}/moderation")
    organiser.get_by_label(zh("Select “%(title)s”", title="玉兰花栏杆")).check()
    organiser.get_by_role("button", name=zh("Approve selected")).click()
    expect(organiser.get_by_role("status")).to_be_visible()

    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(f"{live_server}/calls/{call_id}/entries")
    card = visitor.get_by_role("link", name="玉兰花栏杆")
    expect(card).to_be_visible()
    expect(visitor.get_by_alt_text("白色玉兰花排成一行的红色栏杆")).to_be_visible()
    assert visitor.evaluate("document.querySelector('.gallery img').naturalWidth") > 0  # the image really loads
    card.click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("玉兰花栏杆")
    expect(visitor.get_by_alt_text("栏杆安装在道路中央的效果图")).to_be_visible()

    entrant.goto(f"{live_server}/my/entries")
    expect(entrant.get_by_text(zh("Approved"), exact=True)).to_be_visible()
