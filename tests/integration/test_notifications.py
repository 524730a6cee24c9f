"""Notifications: each person chooses which mails they receive and whether as a daily digest; every mail speaks
the recipient's language, and every mail template exists in Chinese and in English."""
from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext
from sqlalchemy import select

from contest.extensions import db
from contest.mail import outbox, render_mail, send_mail
from contest.models import AuditEvent, FollowUpStage, MailKind, OutboxMail
from contest.services import ServiceError
from contest.services.entries import EntryData, Upload, moderate, submit_entry
from contest.services.notifications import send_digests, set_preferences
from contest.services.rounds import invite_juror
from tests.helpers import (
    SITE,
    count_rows,
    last_mail,
    log_in,
    make_round,
    make_user,
    picture_bytes,
    post_form,
)

ROOT = Path(__file__).resolve().parents[2]
MAIL_TEMPLATES = sorted(p.stem for p in (ROOT / "templates" / "mail").glob("*.txt"))


def mails_to(email: str) -> list:
    return [m for m in outbox() if m.to == email]


def send_entry(app, author, call, title="海派栏杆", seed=1):
    """The author sends an entry (the 'received' mail), in the same transaction as the entry."""
    entry = submit_entry(author, call, EntryData(title=title), [Upload(picture_bytes(seed), "红色栏杆")],
                         accepted_terms=True)
    db.session.commit()
    return entry


def approve(app, organiser, entry):
    moderate(organiser, [entry], approve=True)
    db.session.commit()


def in_locale(locale: str, message: str, **variables) -> str:
    with force_locale(locale):
        return gettext(message, **variables)


# Choices honoured --------------------------------------------------------------------------------

def test_a_kind_turned_off_is_not_sent_nor_stored_and_the_others_are(app, call, citizen, transport_organiser):
    citizen.mail_off = [MailKind.RECEIVED.value]
    db.session.commit()
    entry = send_entry(app, citizen, call)
    assert mails_to(citizen.email) == []
    assert count_rows(OutboxMail) == 0

    approve(app, transport_organiser, entry)
    assert [m.subject for m in mails_to(citizen.email)] == [in_locale("zh", "Your entry is public")]
    # Only the mail that went is in the outbox, sent: the turned-off one was never written.
    assert [(m.kind, m.digest, m.sent_at is not None) for m in db.session.scalars(select(OutboxMail))] == [
        (MailKind.MODERATED, False, True)]


def test_send_mail_says_when_a_mail_is_turned_off(app, citizen):
    citizen.mail_off = [MailKind.RESULTS.value]
    assert send_mail(citizen.email, "zh", "entry_received", kind=MailKind.RESULTS, user=citizen,
                     entry=SimpleNamespace(title="t", call=SimpleNamespace(title="c")), url="u") is None
    # Account mails have no kind and are always sent, whatever was turned off.
    citizen.mail_off = [kind.value for kind in MailKind]
    assert send_mail(citizen.email, "zh", "confirm_email", user=citizen, url="u", days=3) is not None
    assert len(mails_to(citizen.email)) == 1


def test_digest_users_get_nothing_at_once_then_one_digest_with_everything_then_nothing(
        app, call, citizen, transport_organiser):
    citizen.mail_digest = True
    db.session.commit()
    first = send_entry(app, citizen, call, title="海派栏杆", seed=1)
    send_entry(app, citizen, call, title="江南栏杆", seed=2)
    approve(app, transport_organiser, first)
    assert mails_to(citizen.email) == []
    held = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    assert [(m.kind, m.digest, m.sent_at, m.user_id) for m in held] == [
        (MailKind.RECEIVED, True, None, citizen.id), (MailKind.RECEIVED, True, None, citizen.id),
        (MailKind.MODERATED, True, None, citizen.id)]

    assert send_digests() == 1
    [digest] = mails_to(citizen.email)
    assert digest.subject == "您的每日汇总：3 条消息"
    received, public = in_locale("zh", "We have received your entry"), in_locale("zh", "Your entry is public")
    assert digest.body.count(received) == 2 and digest.body.count(public) == 1
    assert digest.body.index("海派栏杆") < digest.body.index("江南栏杆") < digest.body.index(public)  # oldest first
    assert "/account/notifications" in digest.body
    db.session.expire_all()
    assert all(m.sent_at is not None for m in db.session.scalars(select(OutboxMail)))

    assert send_digests() == 0
    assert len(mails_to(citizen.email)) == 1


def test_a_held_mail_goes_with_the_change_that_caused_it(app, call, citizen):
    citizen.mail_digest = True
    db.session.commit()
    submit_entry(citizen, call, EntryData(title="海派栏杆"), [Upload(picture_bytes(1), "栏杆")],
                 accepted_terms=True)
    db.session.rollback()  # the submission failed after all
    assert count_rows(OutboxMail) == 0


def test_a_digest_holds_only_what_was_written_before_it_and_only_digest_mails(app, call, citizen, outbox):
    citizen.mail_digest = True
    db.session.commit()
    send_entry(app, citizen, call)
    [held] = db.session.scalars(select(OutboxMail)).all()
    assert send_digests(held.created_at - timedelta(seconds=1)) == 0
    assert send_digests(held.created_at + timedelta(seconds=1)) == 1
    assert len(mails_to(citizen.email)) == 1


@pytest.mark.real_commits  # two runs in threads, each on a connection of its own
def test_two_digest_runs_at_once_send_each_person_one_digest(app, call, citizen):
    people = [citizen] + [make_user(f"reader{i}@example.org", name=f"读者{i}") for i in range(3)]
    for n, person in enumerate(people):
        person.mail_digest = True
        db.session.commit()
        send_entry(app, person, call, title=f"作品{n}", seed=10 + n)
    start, sent, errors = threading.Barrier(2), [], []

    def run():
        try:
            with app.app_context():
                start.wait()
                sent.append(send_digests())
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(sent) == len(people)
    assert sorted(m.to for m in outbox()) == sorted(p.email for p in people)


def test_juror_invitations_and_reminders_are_never_held_for_a_digest(app, call, transport_organiser):
    juror = make_user("juror@example.org", name="评委甲", locale="en")
    juror.mail_digest = True
    db.session.commit()
    round_ = make_round(call, transport_organiser)
    invite_juror(transport_organiser, round_, "juror@example.org")
    db.session.commit()
    mail = last_mail("juror@example.org")
    assert mail.subject == "Invitation to judge"  # and in the invitee's own language
    assert db.session.scalars(select(OutboxMail.digest)).all() == [False]  # nothing held
    assert send_digests() == 0


def test_a_juror_who_turned_jury_mails_off_gets_no_invitation(app, call, transport_organiser):
    juror = make_user("juror@example.org", name="评委甲")
    juror.mail_off = [MailKind.JURY.value]
    db.session.commit()
    invite_juror(transport_organiser, make_round(call, transport_organiser), "juror@example.org")
    assert mails_to("juror@example.org") == []


def test_mails_go_in_the_recipients_language(app, call, transport_organiser):
    chinese = make_user("zh@example.org", name="张三", locale="zh")
    english = make_user("en@example.org", name="Jane", locale="en")
    for n, person in enumerate((chinese, english)):
        approve(app, transport_organiser, send_entry(app, person, call, seed=n + 1))
    assert [m.subject for m in mails_to("zh@example.org")] == ["我们已收到您的作品", "您的作品已公开"]
    assert [m.subject for m in mails_to("en@example.org")] == ["We have received your entry", "Your entry is public"]


def test_a_digest_speaks_its_readers_language(app, call):
    english = make_user("en@example.org", name="Jane", locale="en")
    english.mail_digest = True
    db.session.commit()
    send_entry(app, english, call)
    send_digests()
    mail = last_mail("en@example.org")
    assert mail.subject == "Your daily digest: 1 message"
    assert "We have received your entry" in mail.body and "Hello Jane," in mail.body


def test_the_digest_command_sends_the_digests(app, runner, call, citizen):
    app.config["BASE_URL"] = SITE  # the command runs outside any request: its links come from the configuration
    citizen.mail_digest = True
    db.session.commit()
    send_entry(app, citizen, call)
    result = runner.invoke(args=["digest"])
    assert result.exit_code == 0, result.output
    assert "1 digests sent" in result.output
    assert f"{SITE}/account/notifications" in last_mail(citizen.email).body
    assert "0 digests sent" in runner.invoke(args=["digest"]).output


# The page of choices -----------------------------------------------------------------------------

def test_the_profile_links_to_the_choices(client, citizen):
    log_in(client, citizen.email)
    assert "/account/notifications" in client.get("/account/profile").get_data(as_text=True)


def test_the_choices_page_shows_the_choices_and_says_account_mails_always_go(client, citizen):
    citizen.mail_off = [MailKind.RESULTS.value]
    log_in(client, citizen.email)
    html = client.get("/account/notifications").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="received"', html)
    assert not re.search(r'<input checked[^>]*value="results"', html)
    assert re.search(r'<input checked[^>]*value="single"', html)
    assert "中文" in html and in_locale("zh", "Juror invitations, entries to score and reminders") in html
    assert "确认电子邮箱或设置新密码的链接" in html  # account mails are always sent, and the page says so


def test_the_choices_are_saved_with_the_csrf_token_only(client, citizen):
    log_in(client, citizen.email)
    data = {"kinds": ["received", "follow_up", "jury"], "delivery": "digest"}
    assert client.post("/account/notifications", data=data).status_code == 400
    db.session.refresh(citizen)
    assert citizen.mail_off == [] and citizen.mail_digest is False

    response = post_form(client, "/account/notifications", data, follow_redirects=True)
    assert "您的邮件设置已保存。" in response.get_data(as_text=True)
    db.session.refresh(citizen)
    assert citizen.mail_off == ["moderated", "advanced", "results", "objection", "following"]
    assert citizen.mail_digest is True
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.mail_preferences"))
    assert (event.actor_id, event.target_id, event.detail["digest"]) == (citizen.id, citizen.id, True)


def test_a_bad_delivery_choice_changes_nothing(client, citizen):
    log_in(client, citizen.email)
    response = post_form(client, "/account/notifications", {"kinds": ["received"], "delivery": "weekly"})
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)
    db.session.refresh(citizen)
    assert citizen.mail_off == [] and citizen.mail_digest is False


def test_a_citizen_cannot_change_anothers_choices(app, client, citizen):
    other = make_user("other@example.org", name="李四")
    log_in(client, citizen.email)
    post_form(client, f"/account/notifications?user_id={other.id}",
              {"user_id": other.id, "kinds": [], "delivery": "digest"})
    db.session.refresh(other)
    assert other.mail_off == [] and other.mail_digest is False  # only the logged-in person's own choices change
    with pytest.raises(ServiceError):
        set_preferences(citizen, other, [], digest=True)


def test_the_choices_page_needs_a_login(client):
    response = client.get("/account/notifications")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


# Every template in both languages ----------------------------------------------------------------

CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
WHEN = datetime(2025, 5, 1, 2, 30, tzinfo=UTC)


def realistic_context(template: str = "", is_entrant: bool = True, pieces: int = 1) -> dict:
    """What the services pass to the mail templates, with Chinese user data as in life: `pieces` of news for the
    mails that tell a person of one event once, however many of their entries it concerns (send_once_each)."""
    from contest.models import Call, Objection, Round

    # The call, its round and the objection as (unsaved) models: they say their texts in the reader's language.
    call = Call(id=7, title="道路栏杆请您绘", notice_ends_at=WHEN + timedelta(days=7))
    user = SimpleNamespace(id=3, display_name="张三", email="citizen@example.org")
    round_ = Round(id=5, title="专家评审", opens_at=WHEN, closes_at=WHEN + timedelta(days=10))
    round_.call = call
    entry = SimpleNamespace(id=11, title="海派栏杆", call=call, author_id=user.id if is_entrant else 99)
    other = SimpleNamespace(id=12, title="江南栏杆", call=call, author_id=user.id)
    items = [SimpleNamespace(id=1, subject="石库门", body="弄堂\n\n梧桐", created_at=WHEN),
             SimpleNamespace(id=2, subject="外滩", body="苏州河", created_at=WHEN + timedelta(hours=3))]
    entries = [entry, other][:pieces]
    news = {
        "results_published": [SimpleNamespace(entry=e, url=f"https://city.example.org/my/entries/{e.id}/feedback")
                              for e in entries],
        "round_decided": [SimpleNamespace(entry=e, advanced=n == 0) for n, e in enumerate(entries)],
        "entries_assigned": [SimpleNamespace(entry=e) for e in entries],
    }.get(template, entries)
    return dict(user=user, member=SimpleNamespace(user=user, email=user.email), entry=entry, call=call,
                round=round_, reason="图案与他人作品雷同", stage=FollowUpStage.REFINING, progress=40,
                news=news, objection=Objection(reason="评分不透明", answer="经核查异议不成立"),
                done=3, assigned=8, days=3, minutes=60, items=items, unanswered=2,
                url="https://city.example.org/x", login_url="https://city.example.org/account/login",
                reset_url="https://city.example.org/account/forgot-password",
                results_url="https://city.example.org/calls/7/results")


USER_DATA = ["道路栏杆请您绘", "张三", "专家评审", "海派栏杆", "江南栏杆", "石库门", "弄堂", "梧桐", "外滩", "苏州河",
             "图案与他人作品雷同", "评分不透明", "经核查异议不成立"]


def without_user_data(text: str) -> str:
    text = re.sub(r"https?://\S+|\S+@\S+", " ", text)
    for value in USER_DATA:
        text = text.replace(value, " ")
    return text


@pytest.fixture(scope="module")
def english_fragments():
    """The English of every catalog message, cut at its placeholders: none may show in a Chinese mail."""
    with (ROOT / "contest" / "translations" / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    fragments = set()
    for message in catalog:
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            for part in re.split(r"%\(\w+\)[sd]|[“”]", msgid or ""):
                if len(part.strip()) >= 10:
                    fragments.add(part.strip())
    return fragments


def test_the_digest_template_is_among_the_templates():
    assert {"digest", "entry_received", "juror_invitation", "follow_up_stage"} <= set(MAIL_TEMPLATES)


@pytest.mark.parametrize("template", MAIL_TEMPLATES)
@pytest.mark.parametrize("is_entrant, pieces", [(True, 1), (False, 2)])
def test_every_mail_template_has_a_complete_chinese_and_english_version(app, english_fragments, template,
                                                                        is_entrant, pieces):
    chinese = render_mail("x@example.org", "zh", template, **realistic_context(template, is_entrant, pieces))
    english = render_mail("x@example.org", "en", template, **realistic_context(template, is_entrant, pieces))
    for mail in (chinese, english):
        assert mail.subject and mail.body.strip(), f"{template}: a subject line and a body"
    zh_text = without_user_data(chinese.subject + "\n" + chinese.body)
    leftovers = [f for f in english_fragments if f in zh_text]
    assert leftovers == [], f"{template} in Chinese shows English: {leftovers}"
    assert re.findall(r"[A-Za-z]{3,}", zh_text) == [], f"{template} in Chinese shows English words"
    assert CJK.search(zh_text), f"{template}: the Chinese version says something of its own"
    en_text = without_user_data(english.subject + "\n" + english.body)
    assert CJK.findall(en_text) == [], f"{template} in English shows Chinese"
    assert re.search(r"[A-Za-z]{3,}", en_text)

