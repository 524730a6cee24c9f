"""Comments on entries and calls, through the pages: writing, replying, endorsing, reporting; reports that hide;
the organisers' review; comments closed while the jury scores; no entrant named during a blind round."""
import re
import threading

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import AuditEvent, Comment, CommentReport, CommentStatus
from tests.helpers import (
    approved_entries,
    count_rows,
    log_in,
    make_organiser,
    make_round,
    make_user,
    post_form,
    zh,
)


@pytest.fixture
def app(app_factory):
    # No first-comment moderation unless a test asks for it: most stories start with known people.
    app = app_factory(COMMENT_FIRST_MODERATED=0)
    with app.app_context():
        yield app


@pytest.fixture
def entry(railing_call):
    return approved_entries(railing_call, 1)[0]


def comment(client, entry, body, parent_id=None, **kwargs):
    data = {"body": body} if parent_id is None else {"body": body, "parent_id": parent_id}
    return post_form(client, f"/entries/{entry.id}/comments", data, page=f"/entries/{entry.id}", **kwargs)


def report(client, c, category="spam", reason="广告"):
    return post_form(client, f"/comments/{c.id}/report", {"category": category, "reason": reason})


def people(app, n, prefix="reader"):
    """n logged-in test clients of n different confirmed citizens."""
    clients = []
    for i in range(n):
        make_user(f"{prefix}{i}@example.org", name=f"{prefix}{i}")
        c = app.test_client()
        log_in(c, f"{prefix}{i}@example.org")
        clients.append(c)
    return clients


def test_a_citizen_comments_replies_and_endorses(app, client, citizen, entry):
    log_in(client, citizen.email)
    response = comment(client, entry, "很好的设计，**颜色**可以再亮一点。<img src=x onerror=alert(1)>")
    assert response.status_code == 302
    first = db.session.scalar(select(Comment))
    assert first.status is CommentStatus.VISIBLE and first.entry_id == entry.id
    page = client.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert "<strong>颜色</strong>" in page and "<img" not in page.split('id="comments"')[1]
    other, = people(app, 1)
    assert comment(other, entry, "同意", parent_id=str(first.id)).status_code == 302
    reply = db.session.scalar(select(Comment).where(Comment.parent_id == first.id))
    # A reply to a reply joins the first comment's thread: one level deep.
    comment(client, entry, "谢谢", parent_id=str(reply.id))
    assert {c.parent_id for c in db.session.scalars(select(Comment).where(Comment.id != first.id))} == {first.id}
    assert post_form(other, f"/comments/{first.id}/endorse", page=f"/entries/{entry.id}").status_code == 302
    post_form(other, f"/comments/{first.id}/endorse", page=f"/entries/{entry.id}")  # twice counts once
    db.session.refresh(first)
    assert first.endorsements == 1
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.target_type == "comment"))
            ] == ["comment.post", "comment.reply", "comment.reply"]


def test_an_unconfirmed_or_anonymous_visitor_cannot_comment(client, entry):
    response = post_form(client, f"/entries/{entry.id}/comments", {"body": "匿名"}, page="/account/login")
    assert response.status_code == 302 and "/account/login" in response.location
    make_user("new@example.org", confirmed=False)
    log_in(client, "new@example.org")
    response = comment(client, entry, "未确认", follow_redirects=True)
    assert zh("Please confirm your e-mail address before commenting.") in response.get_data(as_text=True)
    assert count_rows(Comment) == 0


def test_the_third_distinct_report_hides_and_the_same_person_counts_once(app, client, citizen, entry):
    log_in(client, citizen.email)
    comment(client, entry, "买便宜的栏杆请加微信")
    c = db.session.scalar(select(Comment))
    a, b, third = people(app, 3)
    for _ in range(3):
        assert report(a, c).status_code == 302
    report(b, c, "off_topic", "与作品无关")
    db.session.refresh(c)
    assert c.reports == 2 and c.status is CommentStatus.VISIBLE
    report(third, c, "abuse", "骚扰")
    db.session.refresh(c)
    assert c.status is CommentStatus.HIDDEN and count_rows(CommentReport) == 3
    page = client.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert zh("Hidden after reports from readers, until the moderators review it.") in page


def test_a_report_needs_a_category_and_a_reason(app, client, citizen, entry):
    log_in(client, citizen.email)
    comment(client, entry, "评论")
    c = db.session.scalar(select(Comment))
    reader, = people(app, 1)
    response = post_form(reader, f"/comments/{c.id}/report", {"category": "spam", "reason": " "})
    assert response.status_code == 400 and zh("Write the reason for your report.") in response.get_data(as_text=True)
    assert count_rows(CommentReport) == 0


@pytest.mark.real_commits  # twenty requests in threads at once, each on a connection of its own
def test_twenty_simultaneous_reports_of_one_person_count_once(app, client, citizen, entry):
    log_in(client, citizen.email)
    comment(client, entry, "评论")
    comment_id = db.session.scalar(select(Comment.id))
    make_user("eager@example.org")
    browsers = [app.test_client() for _ in range(20)]
    tokens = []
    for b in browsers:
        log_in(b, "eager@example.org")
        page = b.get(f"/comments/{comment_id}/report").get_data(as_text=True)
        tokens.append(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))
    barrier = threading.Barrier(len(browsers))
    codes, errors = [], []

    def send(b, token):
        try:
            barrier.wait()
            codes.append(b.post(f"/comments/{comment_id}/report",
                                data={"csrf_token": token, "category": "spam", "reason": "同时"}).status_code)
        except Exception as error:  # noqa: BLE001 - reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=send, args=(b, t)) for b, t in zip(browsers, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    if db.engine.dialect.name == "sqlite":  # one writer at a time: some are told to try again, none counts twice
        assert set(codes) <= {302, 503} and 302 in codes
    else:
        assert codes == [302] * 20
    db.session.expire_all()
    c = db.session.get(Comment, comment_id)
    assert count_rows(CommentReport) == 1 and c.reports == 1 and c.status is CommentStatus.VISIBLE


def test_the_organiser_restores_with_a_reason_the_author_sees(app, client, organiser_client, transport_commission,
                                                              entry):
    author = make_user("author@example.org", name="李四")
    writer = app.test_client()
    log_in(writer, author.email)
    comment(writer, entry, "我觉得可以加上梧桐叶")
    c = db.session.scalar(select(Comment))
    for r in people(app, 3):
        report(r, c)
    queue = organiser_client.get(f"/console/calls/{entry.call_id}/comments").get_data(as_text=True)
    assert "我觉得可以加上梧桐叶" in queue and "广告" in queue
    response = post_form(organiser_client, f"/console/comments/{c.id}/moderate",
                         {"reason": "", "restore": "1"}, page=f"/console/calls/{entry.call_id}/comments")
    db.session.refresh(c)
    assert response.status_code == 302 and c.status is CommentStatus.HIDDEN  # no reason: nothing changes
    post_form(organiser_client, f"/console/comments/{c.id}/moderate",
              {"reason": "内容与作品有关，不是广告", "restore": "1"}, page=f"/console/calls/{entry.call_id}/comments")
    db.session.refresh(c)
    assert c.status is CommentStatus.VISIBLE and c.reports == 0
    assert "内容与作品有关，不是广告" in writer.get(f"/entries/{entry.id}").get_data(as_text=True)
    post_form(organiser_client, f"/console/comments/{c.id}/moderate", {"reason": "含有电话号码", "hide": "1"},
              page=f"/console/calls/{entry.call_id}/comments")
    anonymous = app.test_client().get(f"/entries/{entry.id}").get_data(as_text=True)
    assert zh("Hidden by the moderators because: %(reason)s", reason="含有电话号码") in anonymous
    assert "我觉得可以加上梧桐叶" not in anonymous
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("comment.%")))]
    assert actions.count("comment.restore") == 1 and actions.count("comment.hide") == 1


def test_an_organiser_of_another_department_cannot_moderate(app, client, citizen, planning_bureau, entry):
    log_in(client, citizen.email)
    comment(client, entry, "评论")
    c = db.session.scalar(select(Comment))
    stranger = make_organiser(planning_bureau, "planning@example.org")
    other = app.test_client()
    log_in(other, stranger.email)
    assert other.get(f"/console/calls/{entry.call_id}/comments").status_code == 403
    response = post_form(other, f"/console/comments/{c.id}/moderate", {"reason": "删掉", "hide": "1"},
                         page=f"/entries/{entry.id}")
    assert response.status_code == 403
    db.session.refresh(c)
    assert c.status is CommentStatus.VISIBLE


def test_comments_closed_while_the_jury_scores(app, organiser_client, transport_organiser, citizen, entry):
    call = entry.call
    post_form(organiser_client, f"/console/calls/{call.id}/comments",
              {"settings-comments_open": "y", "settings-closed_while_judging": "y"})
    make_round(call, transport_organiser)
    client = app.test_client()
    log_in(client, citizen.email)
    page = client.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert zh("Comments are closed while the jury scores the entries.") in page
    response = comment(client, entry, "评审期间的评论", follow_redirects=True)
    assert zh("Comments are closed while the jury scores the entries.") in response.get_data(as_text=True)
    assert count_rows(Comment) == 0


def test_the_organisers_answer_officially_and_the_call_takes_comments(organiser_client, railing_call):
    response = post_form(organiser_client, f"/calls/{railing_call.id}/comments", {"body": "感谢大家的建议"},
                         page=f"/calls/{railing_call.id}")
    assert response.status_code == 302
    page = organiser_client.get(f"/calls/{railing_call.id}").get_data(as_text=True)
    assert zh("Official answer of %(department)s", department="上海市交通委员会") in page


def test_no_entrant_is_named_during_a_blind_round(app, transport_organiser, entry):
    make_round(entry.call, transport_organiser, blind=True)
    entrant = app.test_client()
    log_in(entrant, entry.author.email)
    assert comment(entrant, entry, "作者在此回答：栏杆高度为1.1米").status_code == 302
    page = app.test_client().get(f"/entries/{entry.id}").get_data(as_text=True)
    assert "作者在此回答" in page and zh("The entrant") in page
    assert entry.author.display_name not in page


def test_a_new_accounts_first_comment_waits(app_factory, railing_call):
    app = app_factory(COMMENT_FIRST_MODERATED=1)
    newcomer, = people(app, 1, prefix="newcomer")
    post_form(newcomer, f"/calls/{railing_call.id}/comments", {"body": "第一条评论"}, page=f"/calls/{railing_call.id}")
    c = db.session.scalar(select(Comment))
    assert c.status is CommentStatus.PENDING
    assert "第一条评论" not in app.test_client().get(f"/calls/{railing_call.id}").get_data(as_text=True)
    assert "第一条评论" in newcomer.get(f"/calls/{railing_call.id}").get_data(as_text=True)


def test_comments_are_paged(app, client, citizen, railing_call):
    log_in(client, citizen.email)
    for i in range(25):
        db.session.add(Comment(call_id=railing_call.id, author_id=citizen.id, body=f"第{i:02d}条"))
    db.session.commit()
    first = client.get(f"/calls/{railing_call.id}").get_data(as_text=True)
    second = client.get(f"/calls/{railing_call.id}?page=2").get_data(as_text=True)
    assert "第00条" in first and "第24条" not in first and "第24条" in second and "第00条" not in second


def test_comments_are_rate_limited_per_account(app_factory, citizen, railing_call):
    app = app_factory(COMMENT_FIRST_MODERATED=0, COMMENT_LIMIT_PER_ACCOUNT="2/hour", RATELIMIT_ENABLED=True)
    client = app.test_client()
    log_in(client, citizen.email)
    url, page = f"/calls/{railing_call.id}/comments", f"/calls/{railing_call.id}"
    codes = [post_form(client, url, {"body": f"第{n}条"}, page=page).status_code for n in range(3)]
    assert codes == [302, 302, 429] and count_rows(Comment) == 2


def test_a_comment_follows_the_call_and_a_reply_is_told_once_naming_nobody(app, client, citizen, entry, outbox):
    """Commenting follows the call; a reply is mailed to the comment's author in their language, once, without the
    replier's name; their own reply, and one waiting for the moderators, are not mailed."""
    from contest.models import CallFollower

    citizen.locale = "en"
    db.session.commit()
    log_in(client, citizen.email)
    comment(client, entry, "栏杆的高度是否合适？")
    first = db.session.scalar(select(Comment))
    follower = db.session.scalar(select(CallFollower).where(CallFollower.call_id == entry.call_id,
                                                            CallFollower.user_id == citizen.id))
    assert follower is not None and follower.automatic and follower.stopped_at is None
    comment(client, entry, "补充一句", parent_id=str(first.id))  # their own reply: no mail
    assert [m for m in outbox if m.to == citizen.email] == []
    replier, = people(app, 1, prefix="回复者")
    assert comment(replier, entry, "高度符合规范", parent_id=str(first.id)).status_code == 302
    told = [m for m in outbox if m.to == citizen.email]
    assert len(told) == 1 and told[0].subject == f"A reply to your comment on “{entry.call.title}”"
    assert f"/entries/{entry.id}#comment-" in told[0].body and "回复者" not in told[0].body
    assert "To stop following this call, open this link (no need to log in):" in told[0].body


def test_a_reply_waiting_for_the_moderators_is_not_told(app, client, citizen, entry, outbox):
    log_in(client, citizen.email)
    comment(client, entry, "第一条")
    first = db.session.scalar(select(Comment))
    app.config["COMMENT_FIRST_MODERATED"] = 1  # a new account's first comment waits for the moderators
    newcomer, = people(app, 1, prefix="new")
    assert comment(newcomer, entry, "等待审核的回复", parent_id=str(first.id)).status_code == 302
    waiting = db.session.scalar(select(Comment).where(Comment.parent_id == first.id))
    assert waiting.status is CommentStatus.PENDING
    assert [m for m in outbox if m.to == citizen.email] == []
