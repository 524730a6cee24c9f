"""A citizen comments on an entry, two others report it and a third report hides it; the organiser shows it again
with a reason, which its author reads in place."""
import pytest
from playwright.sync_api import expect

from contest.extensions import db
from contest.models import Comment, CommentStatus
from tests.helpers import approved_entries, make_call, make_user, zh

pytestmark = pytest.mark.browser


@pytest.fixture
def app(app_factory):
    app = app_factory(COMMENT_FIRST_MODERATED=0)  # the story's people are known; newcomers wait elsewhere
    with app.app_context():
        yield app


def log_in(page, base, email):
    page.goto(base + "/account/login")
    page.get_by_label(zh("E-mail address")).fill(email)
    page.get_by_label(zh("Password")).fill("correct horse battery")
    page.get_by_role("main").get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("status")).to_contain_text(zh("You are logged in."))


def as_person(browser, base, email):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, email)
    return context, page


def test_comment_reported_hidden_and_restored(app, live_server, page, browser, transport_commission,
                                              transport_organiser):
    entry = approved_entries(make_call(transport_commission), 1)[0]
    entry_url = f"{live_server}/entries/{entry.id}"
    make_user("writer@example.org", name="陈小红")
    for n in range(3):
        make_user(f"reader{n}@example.org", name=f"读者{n}")

    log_in(page, live_server, "writer@example.org")
    page.goto(entry_url)
    page.get_by_label(zh("Your comment")).fill("栏杆的红色很醒目，建议在学校门口使用。")
    page.get_by_role("button", name=zh("Post the comment")).click()
    expect(page.get_by_role("status")).to_contain_text(zh("Your comment is posted."))
    expect(page.locator(".comment-body")).to_contain_text("栏杆的红色很醒目")

    reasons = [("spam", "像是广告"), ("off_topic", "与作品无关"), ("abuse", "语气不好")]
    for n, (category, reason) in enumerate(reasons):
        context, reader = as_person(browser, live_server, f"reader{n}@example.org")
        reader.goto(entry_url)
        reader.get_by_role("link", name=zh("Report")).click()
        reader.locator(f"input[value={category}]").check()
        reader.get_by_label(zh("Your reason")).fill(reason)
        reader.get_by_role("button", name=zh("Report the comment")).click()
        expect(reader.get_by_role("status")).to_contain_text(zh("Thank you: the organisers will look at it."))
        context.close()
    db.session.commit()
    comment = db.session.query(Comment).one()
    assert comment.status is CommentStatus.HIDDEN and comment.reports == 3
    page.goto(entry_url)
    expect(page.get_by_role("main")).to_contain_text(
        zh("Hidden after reports from readers, until the moderators review it."))

    context, organiser = as_person(browser, live_server, transport_organiser.email)
    organiser.goto(f"{live_server}/console/calls/{entry.call_id}/moderation")
    organiser.get_by_role("link", name=zh("Comments to review")).click()
    card = organiser.locator(f"#comment-{comment.id}")
    expect(card).to_contain_text("像是广告")
    expect(card).to_contain_text("语气不好")
    organiser.screenshot(path="test-artifacts/comments/queue-zh.png", full_page=True)
    card.get_by_label(zh("Reason")).fill("是对作品的真实建议，不是广告")
    card.get_by_role("button", name=zh("Show")).click()
    expect(organiser.get_by_role("status")).to_contain_text(zh("The comment is shown."))
    context.close()
    db.session.commit()
    db.session.refresh(comment)
    assert comment.status is CommentStatus.VISIBLE

    page.goto(entry_url)
    expect(page.locator(".comment-body")).to_contain_text("栏杆的红色很醒目")
    expect(page.get_by_role("main")).to_contain_text(
        zh("The moderators showed it again: %(reason)s", reason="是对作品的真实建议，不是广告"))
    page.screenshot(path="test-artifacts/comments/entry-comment-restored-zh.png", full_page=True)
    page.goto(f"{live_server}/lang/en")
    page.goto(entry_url)
    expect(page.get_by_role("main")).to_contain_text("The moderators showed it again")
    page.screenshot(path="test-artifacts/comments/entry-comment-restored-en.png", full_page=True)
