"""Following a call: the button and the account's list, following by taking part (and never again after
stopping), one mail per event per follower in their own language, the digest, and the mail's signed link that
stops following without logging in."""
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from contest.extensions import db
from contest.models import CallFollower, FollowUpStage, MailKind, OutboxMail, Round
from contest.models.types import utcnow
from contest.services import following
from contest.services import followup as followup_service
from contest.services import results as results_service
from contest.services.notifications import send_digests
from contest.worker import run_clock
from tests.helpers import (
    adopted_entry,
    approved_entries,
    log_in,
    make_public_round,
    make_user,
    make_voter,
    post_form,
    zh,
)

UNFOLLOW_LINE = "To stop following this call, open this link (no need to log in):"


def mails_to(outbox, email: str) -> list:
    return [m for m in outbox if m.to == email]


def said(locale: str, message: str, **variables) -> str:
    with force_locale(locale):
        return gettext(message, **variables)


def unfollow_link(mail) -> str:
    """The path of the mail's link that stops following (the last link of the mail)."""
    line = said(mail.locale, UNFOLLOW_LINE)
    assert line in mail.body, mail.body
    url = mail.body.split(line, 1)[1].split()[0]
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def follow(app, user, call):
    client = app.test_client()
    log_in(client, user.email)
    response = post_form(client, f"/calls/{call.id}/follow", page=f"/calls/{call.id}")
    assert response.status_code == 302
    return client


def follows(user, call) -> bool:
    db.session.commit()
    return db.session.scalar(select(CallFollower.user_id).where(
        CallFollower.call_id == call.id, CallFollower.user_id == user.id,
        CallFollower.stopped_at.is_(None))) is not None


@pytest.fixture
def followers(app, railing_call):
    """Two citizens following the railing call by its button, one reading Chinese, one English."""
    chinese = make_user("lin@example.org", name="林女士")
    english = make_user("ann@example.org", name="Ann", locale="en")
    for user in (chinese, english):
        follow(app, user, railing_call)
    return chinese, english


def publish(app, call, organiser, notice_days=7):
    for round_ in call.rounds:
        round_.opens_at, round_.closes_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
    db.session.commit()
    with app.test_request_context():
        results_service.publish(organiser, call, notice_days, None)
        db.session.commit()


# Following and stopping ---------------------------------------------------------------------------

def test_a_citizen_follows_a_call_from_its_page_sees_it_on_the_account_page_and_stops(
        client, railing_call, citizen):
    page = client.get(f"/calls/{railing_call.id}").get_data(as_text=True)
    assert zh("Log in to follow this call and be told by e-mail of its rounds, results and follow-up.") in page
    log_in(client, citizen.email)
    page = client.get(f"/calls/{railing_call.id}").get_data(as_text=True)
    assert zh("Follow this call") in page
    assert client.post(f"/calls/{railing_call.id}/follow").status_code == 400  # no CSRF token: nothing changes
    assert not follows(citizen, railing_call)

    response = post_form(client, f"/calls/{railing_call.id}/follow", page=f"/calls/{railing_call.id}",
                         follow_redirects=True)
    page = response.get_data(as_text=True)
    assert zh("You follow this call: we tell you by e-mail of its news.") in page
    assert zh("Stop following this call") in page
    assert follows(citizen, railing_call)
    profile = client.get("/account/profile").get_data(as_text=True)
    assert zh("Calls I follow") in profile and f'href="/calls/{railing_call.id}"' in profile

    response = post_form(client, f"/calls/{railing_call.id}/unfollow", {"next": "/account/profile"},
                         page="/account/profile")
    assert response.status_code == 302 and response.headers["Location"] == "/account/profile"
    assert not follows(citizen, railing_call)
    profile = client.get("/account/profile").get_data(as_text=True)
    assert f'href="/calls/{railing_call.id}"' not in profile
    assert zh("You no longer follow “%(call)s”.", call=railing_call.title) in profile


def test_a_draft_call_cannot_be_followed(client, transport_commission, citizen):
    from tests.helpers import make_call

    draft = make_call(transport_commission, state="draft")
    log_in(client, citizen.email)
    response = post_form(client, f"/calls/{draft.id}/follow", page="/account/profile")
    assert response.status_code == 404
    assert not follows(citizen, draft)


def test_taking_part_follows_the_call_but_never_again_after_stopping(
        app, client, railing_call, transport_organiser, entries):
    votes = make_public_round(railing_call, transport_organiser, votes=3)
    voter = make_voter("voter@example.org")
    log_in(client, voter.email)
    assert post_form(client, f"/rounds/{votes.id}/votes/{entries[0].id}", page=f"/rounds/{votes.id}").status_code == 302
    assert follows(voter, railing_call)
    [row] = db.session.scalars(select(CallFollower).where(CallFollower.user_id == voter.id)).all()
    assert row.automatic

    post_form(client, f"/calls/{railing_call.id}/unfollow", page=f"/calls/{railing_call.id}")
    assert not follows(voter, railing_call)
    assert post_form(client, f"/rounds/{votes.id}/votes/{entries[1].id}", page=f"/rounds/{votes.id}").status_code == 302
    assert not follows(voter, railing_call)  # the second vote counted, and did not follow the call again
    # The button does bring them back.
    post_form(client, f"/calls/{railing_call.id}/follow", page=f"/calls/{railing_call.id}")
    assert follows(voter, railing_call)


def test_a_vote_refused_follows_nothing(client, railing_call, transport_organiser, entries):
    votes = make_public_round(railing_call, transport_organiser, votes=3)
    newcomer = make_voter("new@example.org", days_old=0)  # too new for the round's 24 hours
    log_in(client, newcomer.email)
    post_form(client, f"/rounds/{votes.id}/votes/{entries[0].id}", page=f"/rounds/{votes.id}")
    assert not follows(newcomer, railing_call)


def test_sending_an_entry_and_comparing_follow_the_call(app, client, railing_call, transport_organiser, entries):
    from contest.services.entries import EntryData, Upload, submit_entry
    from tests.helpers import picture_bytes

    entrant = make_user("entrant@example.org")
    with app.test_request_context():
        submit_entry(entrant, railing_call, EntryData(title="江南栏杆"), [Upload(picture_bytes(5), "图")],
                     accepted_terms=True)
    assert follows(entrant, railing_call)

    pairs = make_public_round(railing_call, transport_organiser, mode="pairwise")
    picker = make_voter("picker@example.org")
    log_in(client, picker.email)
    page = client.get(f"/rounds/{pairs.id}/compare").get_data(as_text=True)
    token = page.split('name="pair" value="', 1)[1].split('"', 1)[0]
    response = post_form(client, f"/rounds/{pairs.id}/compare", {"pair": token, "choice": "left"},
                         page=f"/rounds/{pairs.id}")
    assert response.status_code in (200, 302)
    assert follows(picker, railing_call)


# One mail per event per follower, in their language -------------------------------------------------

def test_each_follower_is_told_once_in_their_language_when_results_are_published(
        app, railing_call, transport_organiser, followers, outbox):
    chinese, english = followers
    [entry] = approved_entries(railing_call, 1)
    following.follow_automatically(entry.author, railing_call)  # the entrant follows too: one mail, theirs
    make_public_round(railing_call, transport_organiser)
    outbox.clear()
    publish(app, railing_call, transport_organiser)

    for user in followers:
        [mail] = mails_to(outbox, user.email)
        assert mail.locale == user.locale
        assert mail.subject == said(user.locale, "The results of “%(call)s” are published", call=railing_call.title)
        assert said(user.locale, "The results of the call “%(call)s”, which you follow, are published.",
                    call=railing_call.title) in mail.body
        assert f"/calls/{railing_call.id}/results" in mail.body
        assert unfollow_link(mail).startswith("/unfollow/")
    assert "Ann" in mails_to(outbox, english.email)[0].body
    [theirs] = mails_to(outbox, entry.author.email)
    assert f"/my/entries/{entry.id}/feedback" in theirs.body  # the entrant's own mail, with the unfollow link
    assert unfollow_link(theirs).startswith("/unfollow/")
    # The newest mail to each address (the entrant was mailed before, when their entry was received).
    kinds = {row.to: row.kind for row in db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()}
    assert kinds[chinese.email] is MailKind.FOLLOWING and kinds[entry.author.email] is MailKind.RESULTS


def test_followers_are_told_once_when_an_objection_is_answered(
        app, railing_call, transport_organiser, followers, outbox):
    chinese, english = followers
    approved_entries(railing_call, 2)
    make_public_round(railing_call, transport_organiser)
    publish(app, railing_call, transport_organiser)
    objector = make_user("objector@example.org", name="较真的市民", locale="en")
    follow(app, objector, railing_call)
    with app.test_request_context():
        objection = results_service.file_objection(objector, railing_call, None, "评分不透明。")
        db.session.commit()
    outbox.clear()
    with app.test_request_context():
        results_service.answer_objection(transport_organiser, objection, "经核查，异议不成立。")
        db.session.commit()
        results_service.answer_objection(transport_organiser, objection, "更正：异议不成立。")  # only published
        db.session.commit()

    for user in followers:
        [mail] = mails_to(outbox, user.email)
        assert mail.subject == said(user.locale, "An objection to the results of “%(call)s” is answered",
                                    call=railing_call.title)
        assert f"/calls/{railing_call.id}/results#objections" in mail.body
    [own] = mails_to(outbox, objector.email)  # the objector's own mail, not a second one as a follower
    assert own.subject == f"Your objection to the results of “{railing_call.title}” is answered"
    assert unfollow_link(own).startswith("/unfollow/")


def test_followers_are_told_once_of_a_follow_up_stage(app, railing_call, transport_organiser, followers, outbox):
    follow_up = adopted_entry(railing_call, transport_organiser)
    outbox.clear()
    with app.test_request_context():
        followup_service.add_update(transport_organiser, follow_up, stage=FollowUpStage.REFINING, progress=30,
                                    text="专业团队深化设计。", happened_on=utcnow())
        db.session.commit()
        followup_service.add_update(transport_organiser, follow_up, stage=FollowUpStage.REFINING, progress=40,
                                    text="同一阶段的进展，不另行通知。", happened_on=utcnow())
        db.session.commit()
    for user in followers:
        [mail] = mails_to(outbox, user.email)
        with force_locale(user.locale):
            assert mail.subject == gettext("News of “%(title)s”: %(stage)s", title=follow_up.entry.title,
                                           stage=FollowUpStage.REFINING.label)
        assert f"/calls/{railing_call.id}/follow-up#entry-{follow_up.entry.id}" in mail.body
    assert len(mails_to(outbox, follow_up.entry.author.email)) == 1  # the entrant: their own mail only


def test_followers_are_told_once_when_a_round_opens(app, railing_call, transport_organiser, followers, outbox,
                                                    entries):
    votes = make_public_round(railing_call, transport_organiser, state="upcoming")
    outbox.clear()
    assert run_clock()["rounds_opened"] == 0  # not open yet
    assert outbox == []
    round_ = db.session.get(Round, votes.id)
    round_.opens_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert run_clock()["rounds_opened"] == 1
    assert run_clock()["rounds_opened"] == 0  # once
    for user in followers:
        [mail] = mails_to(outbox, user.email)
        assert mail.subject == said(user.locale, "“%(round)s” of “%(call)s” has opened", round=votes.title,
                                    call=railing_call.title)
        assert f"/rounds/{votes.id}" in mail.body


# No mail after stopping; the digest ------------------------------------------------------------------

def test_the_mails_link_stops_following_without_logging_in_and_asks_first(
        app, railing_call, transport_organiser, followers, outbox):
    chinese, english = followers
    approved_entries(railing_call, 1)
    make_public_round(railing_call, transport_organiser)
    outbox.clear()
    publish(app, railing_call, transport_organiser)
    link = unfollow_link(mails_to(outbox, english.email)[0])

    stranger = app.test_client()  # a browser nobody logged in to, or a mail client fetching links
    page = stranger.get(link)
    assert page.status_code == 200
    assert zh("Stop following this call") in page.get_data(as_text=True)  # a visitor who chose no language
    assert follows(english, railing_call)  # opening the link changes nothing

    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    refused = stranger.get(tampered)
    assert refused.status_code == 400
    assert zh("This link is not valid. Copy the whole link from the e-mail.") in refused.get_data(as_text=True)
    assert stranger.post(tampered, data={"csrf_token": "x"}).status_code == 400
    assert follows(english, railing_call)

    response = post_form(stranger, link)
    assert response.status_code == 200
    assert zh("You no longer follow “%(call)s”.", call=railing_call.title) in response.get_data(as_text=True)
    assert not follows(english, railing_call)
    assert follows(chinese, railing_call)  # one person's link stops only their own following

    # No mail after stopping: the next event goes to the one still following.
    objection_author = make_user("o@example.org")
    with app.test_request_context():
        objection = results_service.file_objection(objection_author, railing_call, None, "理由")
        db.session.commit()
    outbox.clear()
    with app.test_request_context():
        results_service.answer_objection(transport_organiser, objection, "答复")
        db.session.commit()
    assert mails_to(outbox, english.email) == []
    assert len(mails_to(outbox, chinese.email)) == 1


def test_a_follower_who_chose_the_digest_finds_the_news_in_it(
        app, railing_call, transport_organiser, followers, outbox):
    chinese, english = followers
    english.mail_digest = True
    db.session.commit()
    approved_entries(railing_call, 1)
    make_public_round(railing_call, transport_organiser)
    outbox.clear()
    publish(app, railing_call, transport_organiser)
    assert mails_to(outbox, english.email) == []
    assert len(mails_to(outbox, chinese.email)) == 1
    assert send_digests() == 1
    [digest] = mails_to(outbox, english.email)
    assert f"The results of “{railing_call.title}” are published" in digest.body
    assert "/unfollow/" in digest.body
    assert send_digests() == 0


def test_a_follower_who_turned_the_kind_off_gets_nothing(app, client, railing_call, transport_organiser, outbox):
    quiet = make_user("quiet@example.org")
    follow(app, quiet, railing_call)
    log_in(client, quiet.email)
    kinds = [kind.value for kind in MailKind if kind is not MailKind.FOLLOWING]
    assert post_form(client, "/account/notifications", {"kinds": kinds, "delivery": "single"}).status_code == 302
    approved_entries(railing_call, 1)
    make_public_round(railing_call, transport_organiser)
    outbox.clear()
    publish(app, railing_call, transport_organiser)
    assert mails_to(outbox, quiet.email) == []
