"""A juror accepts an invitation, scores three entries and sees their progress; the organiser closes the round
and advances the top two — in a real browser."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from contest.extensions import db
from contest.models import RoundEntry
from contest.models.types import utcnow
from contest.services.rounds import invite_juror
from tests.helpers import approved_entries, last_mail, link_in, make_call, make_round, make_user, zh

pytestmark = pytest.mark.browser


def log_in(page, base, email, next_path=None):
    page.goto(base + "/account/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label(zh("E-mail address")).fill(email)
    page.get_by_label(zh("Password")).fill("correct horse battery")
    page.get_by_role("main").get_by_role("button", name=zh("Log in")).click()


def test_a_juror_scores_three_entries_and_the_organiser_advances_two(app, live_server, browser, outbox,
                                                                      transport_organiser, transport_commission):
    call = make_call(transport_commission)
    approved_entries(call, 3)
    call.closes_at = utcnow() - timedelta(hours=2)  # closed for entries; judging begins
    db.session.commit()
    round_ = make_round(call, transport_organiser, k=1)
    round_id = round_.id
    with app.test_request_context(base_url=live_server):
        invite_juror(transport_organiser, round_, "expert@example.org", "周教授")
        db.session.commit()
    make_user("expert@example.org", name="周教授")
    invitation = link_in(last_mail("expert@example.org"))

    juror = browser.new_context(locale="zh-CN").new_page()
    juror.goto(live_server + invitation)
    juror.get_by_role("link", name=zh("Log in")).last.click()
    juror.get_by_label(zh("E-mail address")).fill("expert@example.org")
    juror.get_by_label(zh("Password")).fill("correct horse battery")
    juror.get_by_role("main").get_by_role("button", name=zh("Log in")).click()
    juror.get_by_role("button", name=zh("Accept the invitation")).click()
    expect(juror.get_by_role("heading", level=1)).to_have_text("专家评审")

    # The organiser assigns the entries now that the juror is in.
    organiser = browser.new_context(locale="zh-CN").new_page()
    log_in(organiser, live_server, transport_organiser.email)
    organiser.goto(f"{live_server}/console/rounds/{round_id}/")
    organiser.get_by_role("button", name=zh("Assign entries to jurors")).click()
    expect(organiser.get_by_role("status")).to_contain_text(zh("%(n)d assignments made.", n=3))

    juror.reload()
    expect(juror.get_by_text(zh("%(done)d of %(total)d scored", done=0, total=3))).to_be_visible()
    juror.locator(".jury-list a").first.click()
    for marks in [("9", "8.5", "9"), ("6", "7", "6.5"), ("8", "8", "7.5")]:
        for select_box, mark in zip(juror.locator("select.mark").all(), marks, strict=True):
            select_box.select_option(mark)
        juror.get_by_role("button", name=zh("Submit score")).click()
        expect(juror.get_by_role("status")).to_contain_text(zh("Score submitted."))
    expect(juror.get_by_text(zh("%(done)d of %(total)d scored", done=3, total=3))).to_be_visible()

    organiser.goto(f"{live_server}/console/rounds/{round_id}/")
    organiser.get_by_role("link", name=zh("Close scoring now")).click()  # asks first, on a page of its own
    organiser.get_by_role("button", name=zh("Close scoring now")).click()
    organiser.get_by_label(zh("Who advances")).select_option("top_n")
    organiser.get_by_label(zh("N or per cent")).fill("2")
    organiser.get_by_role("button", name=zh("Confirm who advances")).click()
    expect(organiser.get_by_role("status")).to_contain_text(zh("Decided: %(n)d entries advance.", n=2))
    db.session.commit()  # a fresh transaction sees what the server committed
    assert len(db.session.scalars(select(RoundEntry).where(RoundEntry.advanced.is_(True))).all()) == 2
