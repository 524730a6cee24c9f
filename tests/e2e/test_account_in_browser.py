"""A citizen's first visit, in a real browser on a phone-sized screen."""
import re

import pytest
from playwright.sync_api import expect

from contest.mail import outbox
from tests.helpers import link_in, zh

pytestmark = pytest.mark.browser

PASSWORD = "my railing design 2026"


def test_register_confirm_log_in_switch_to_english_and_log_out(app, live_server, page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_role("navigation").get_by_role("link", name=zh("Register")).click()

    page.get_by_label(zh("E-mail address")).fill("lin@example.org")
    page.get_by_label(zh("Name to show")).fill("林小雨")
    page.get_by_label(zh("Which group do you belong to?")).select_option("student")
    page.get_by_label(zh("Password"), exact=True).fill(PASSWORD)
    page.get_by_label(zh("Password again")).fill(PASSWORD)
    page.get_by_role("button", name=zh("Create account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Check your e-mail"))

    mails = [m for m in outbox() if m.to == "lin@example.org"]
    assert len(mails) == 1
    page.goto(live_server + link_in(mails[0]))
    expect(page.get_by_role("status")).to_contain_text(zh("Thank you: your e-mail address is confirmed."))

    page.get_by_label(zh("E-mail address")).fill("lin@example.org")
    page.get_by_label(zh("Password")).fill(PASSWORD)
    page.get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("status")).to_contain_text(zh("You are logged in."))

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.get_by_text("lin@example.org")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out on every device.")
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    page.goto(live_server + "/account/profile")
    expect(page).to_have_url(re.compile(r"/account/login\?next="))
    assert errors == [], f"the browser reported errors (a CSP violation, say): {errors}"


def test_the_keyboard_reaches_the_skip_link_first(app, live_server, page):
    page.goto(live_server + "/account/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    tag = page.evaluate("document.activeElement.id")
    assert tag == "email"
