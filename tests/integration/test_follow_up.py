"""From design to street: adopting entries once the results are out, dated updates with photos, news to the
entrant and the entry's backers, and the public pages that show it all."""
import re
from datetime import timedelta
from html import unescape

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from contest.extensions import db
from contest.models import (
    CallEvent,
    Comparison,
    EntryStatus,
    FollowUp,
    FollowUpStage,
    FollowUpUpdate,
    Image,
    ImageFile,
    PublicMode,
    Round,
    RoundKind,
    Vote,
)
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services import followup as followup_service
from contest.services import public as public_service
from contest.services.results import stored as results_stored
from contest.snapshot import Figures, FormulaUsed, Row, Snapshot
from tests.helpers import (
    adopt,
    approved_entries,
    count_rows,
    csrf_token,
    io_bytes,
    log_in,
    make_call,
    make_organiser,
    make_public_round,
    make_user,
    make_voter,
    picture_bytes,
)


@pytest.fixture
def entries(railing_call):
    return approved_entries(railing_call, 3)


@pytest.fixture
def organiser_client(english_organiser_client):
    """This module reads the organiser's pages in English."""
    return english_organiser_client


def page_of(client, url: str) -> str:
    return unescape(client.get(url).get_data(as_text=True))


def manage_url(call) -> str:
    return f"/console/calls/{call.id}/follow-up"


def post_adopt(client, call, entry, with_token=True):
    data = {"adopt-entry_id": str(entry.id), "adopt-submit": "Adopt entry"}
    if with_token:
        data["adopt-csrf_token"] = csrf_token(client, manage_url(call))
    return client.post(manage_url(call), data=data)


def post_update(client, follow_up, *, stage="refining", progress="30", text="专家团队正在深化设计。", day=None,
                photo=None, alt="", with_token=True):
    prefix = f"update-{follow_up.id}"
    day = day or shanghai_today()
    data = {f"{prefix}-stage": stage, f"{prefix}-progress": progress, f"{prefix}-happened_on": day.isoformat(),
            f"{prefix}-text": text, f"{prefix}-photo_alt": alt, f"{prefix}-submit": "Add update"}
    if photo is not None:
        data[f"{prefix}-photo"] = (io_bytes(photo), "site.jpg")
    if with_token:
        data[f"{prefix}-csrf_token"] = csrf_token(client, manage_url(follow_up.call))
    return client.post(manage_url(follow_up.call), data=data, content_type="multipart/form-data")


def shanghai_today():
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()


def follow_up_of(entry) -> FollowUp | None:
    db.session.commit()
    return db.session.scalar(select(FollowUp).where(FollowUp.entry_id == entry.id))


def stored_files(app) -> list:
    from pathlib import Path

    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# Adopting -------------------------------------------------------------------------------------

def test_adopting_needs_published_results(organiser_client, railing_call, entries):
    response = post_adopt(organiser_client, railing_call, entries[0])
    assert response.status_code == 400
    assert "Entries can be adopted once the results of the call are published." in unescape(
        response.get_data(as_text=True))
    assert count_rows(FollowUp) == 0

    railing_call.results_published_at = utcnow()
    db.session.commit()
    response = post_adopt(organiser_client, railing_call, entries[0])
    assert response.status_code == 302
    follow_up = follow_up_of(entries[0])
    assert follow_up.stage is FollowUpStage.ADOPTED and follow_up.progress == 0
    assert [u.stage for u in follow_up.updates] == [FollowUpStage.ADOPTED]
    assert f"“{entries[0].title}” is adopted: it is now followed from design to street." in page_of(
        organiser_client, manage_url(railing_call))
    event = db.session.scalar(select(CallEvent).where(CallEvent.kind == "follow_up"))
    assert event.detail == {"entry": entries[0].title, "entry_id": entries[0].id, "stage": "adopted"}


def test_an_entry_is_adopted_once_and_only_if_approved(app, railing_call, entries, transport_organiser):
    adopt(entries[0], transport_organiser)
    entries[1].status = EntryStatus.REJECTED
    db.session.commit()
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(ServiceError, match="already adopted"):
            followup_service.adopt(transport_organiser, entries[0])
        with pytest.raises(ServiceError, match="Only an approved entry"):
            followup_service.adopt(transport_organiser, entries[1])
    db.session.rollback()
    assert count_rows(FollowUp) == 1


@pytest.mark.parametrize("who", ["citizen", "organiser of another department"])
def test_only_the_calls_staff_adopt_and_update(client, app, railing_call, entries, transport_organiser,
                                               planning_bureau, who):
    railing_call.results_published_at = utcnow()
    db.session.commit()
    follow_up = adopt(entries[0], transport_organiser)
    if who == "citizen":
        user = make_user("someone@example.org")
    else:
        user = make_organiser(planning_bureau, "planner@example.org")
    log_in(client, user.email)
    assert client.get(manage_url(railing_call)).status_code == 403
    token = csrf_token(client, "/account/profile")
    response = client.post(manage_url(railing_call), data={
        "adopt-entry_id": str(entries[1].id), "adopt-submit": "y", "adopt-csrf_token": token})
    assert response.status_code == 403
    prefix = f"update-{follow_up.id}"
    response = client.post(manage_url(railing_call), data={
        f"{prefix}-stage": "implemented", f"{prefix}-progress": "100", f"{prefix}-text": "完工",
        f"{prefix}-happened_on": shanghai_today().isoformat(), f"{prefix}-submit": "y", f"{prefix}-csrf_token": token})
    assert response.status_code == 403
    with app.test_request_context(), pytest.raises(ServiceError):
        followup_service.adopt(user, entries[1])
    db.session.rollback()
    assert count_rows(FollowUp) == 1 and count_rows(FollowUpUpdate) == 1
    assert follow_up_of(entries[0]).stage is FollowUpStage.ADOPTED
    anonymous = app.test_client()
    assert anonymous.get(manage_url(railing_call)).status_code == 302  # to the login page


# Updates --------------------------------------------------------------------------------------

def test_stages_advance_to_implemented_with_a_photo_shown_on_both_public_pages(app, organiser_client, railing_call,
                                                                                entries, transport_organiser):
    follow_up = adopt(entries[0], transport_organiser)
    assert post_update(organiser_client, follow_up, stage="refining", progress="30").status_code == 302
    assert "The update of “作品0” is saved." in page_of(organiser_client, manage_url(railing_call))
    assert post_update(organiser_client, follow_up, stage="building", progress="60",
                       text="第一段栏杆开始安装。").status_code == 302
    follow_up = follow_up_of(entries[0])
    assert (follow_up.stage, follow_up.progress) == (FollowUpStage.BUILDING, 60)

    response = post_update(organiser_client, follow_up, stage="refining", progress="70")
    assert response.status_code == 400
    assert "A follow-up only moves forward: choose “Being built” or a later stage." in unescape(
        response.get_data(as_text=True))

    images_before = count_rows(Image)
    alt = "中山北路上新装的海派纹样栏杆"
    response = post_update(organiser_client, follow_up, stage="implemented", progress="80", text="",
                           photo=picture_bytes(42), alt=alt)
    assert response.status_code == 302
    follow_up = follow_up_of(entries[0])
    assert (follow_up.stage, follow_up.progress) == (FollowUpStage.IMPLEMENTED, 100)  # implemented is 100
    newest = follow_up.updates[0]
    assert newest.image is not None and newest.image_alt == alt and count_rows(Image) == images_before + 1
    assert {f.name for f in newest.image.files} == {"original", "zoom", "page", "gallery"}

    visitor = app.test_client()
    visitor.get("/lang/en")
    for url in (f"/calls/{railing_call.id}/follow-up", "/from-idea-to-street"):
        html = page_of(visitor, url)
        assert f'alt="{alt}"' in html, url
        assert f"/media/{newest.image_id}/page" in html, url
        assert '<li class="step-current" aria-current="step">Implemented</li>' in html, url
        assert f'<progress id="progress-{follow_up.id}" max="100" value="100">' in html, url
        assert "100% done" in html and "第一段栏杆开始安装。" in html, url
        assert f'href="/entries/{entries[0].id}"' in html, url
    assert visitor.get(f"/media/{newest.image_id}/page").status_code == 200
    assert visitor.get(f"/media/{newest.image_id}/original").status_code == 404  # originals stay with the staff

    call_page = page_of(visitor, f"/calls/{railing_call.id}")
    for stage in ("Adopted", "Being refined", "Being built", "Implemented"):
        assert f"“作品0”: {stage}" in call_page
    assert f'href="/calls/{railing_call.id}/follow-up"' in call_page
    assert "From design to street: 1 adopted entry" in call_page


def test_no_follow_up_link_without_an_adopted_entry_and_no_page_for_an_unpublished_call(app, transport_commission):
    visitor = app.test_client()
    call = make_call(transport_commission)
    assert "/follow-up" not in visitor.get(f"/calls/{call.id}").get_data(as_text=True)
    draft = make_call(transport_commission, state="draft", title="草稿")
    assert visitor.get(f"/calls/{draft.id}/follow-up").status_code == 404
    assert visitor.get("/calls/9999/follow-up").status_code == 404


@pytest.mark.parametrize("case,message", [
    ("progress 150", "Give the progress as a whole number from 0 to 100."),
    ("photo without alt text", "Describe the photo in a sentence for people who cannot see it."),
    ("no text, no photo", "Write what happened, or add a photo."),
    ("a future date", "The date cannot be in the future."),
    ("not a picture", "Image 1:"),
    ("no CSRF token", "This form has expired or was not sent from this site."),
])
def test_bad_input_is_explained_and_changes_nothing(app, organiser_client, railing_call, entries, transport_organiser,
                                                    outbox, case, message):
    follow_up = adopt(entries[0], transport_organiser)
    files, mails, images = stored_files(app), len(outbox), count_rows(Image)
    kwargs = {
        "progress 150": dict(progress="150"),
        "photo without alt text": dict(photo=picture_bytes(7), alt=""),
        "no text, no photo": dict(text="  "),
        "a future date": dict(day=shanghai_today() + timedelta(days=2)),
        "not a picture": dict(photo=b"GIF89a not really", alt="工地照片"),
        "no CSRF token": dict(with_token=False),
    }[case]
    response = post_update(organiser_client, follow_up, **kwargs)
    assert response.status_code == 400
    assert message in unescape(response.get_data(as_text=True))
    follow_up = follow_up_of(entries[0])
    assert (follow_up.stage, follow_up.progress, len(follow_up.updates)) == (FollowUpStage.ADOPTED, 0, 1)
    assert count_rows(FollowUpUpdate) == 1 and count_rows(Image) == images and count_rows(ImageFile) == 4 * images
    assert stored_files(app) == files
    assert len(outbox) == mails
    assert db.session.scalar(select(func.count()).select_from(CallEvent).where(CallEvent.kind == "follow_up")) == 1


def test_adopting_without_a_token_changes_nothing(organiser_client, railing_call, entries):
    railing_call.results_published_at = utcnow()
    db.session.commit()
    assert post_adopt(organiser_client, railing_call, entries[0], with_token=False).status_code == 400
    assert count_rows(FollowUp) == 0


# News to the entrant and the backers ------------------------------------------------------------

def test_the_entrant_and_the_backers_are_told_once_per_stage_in_their_language(
        app, railing_call, entries, transport_organiser, outbox, count_queries):
    entry, other = entries[0], entries[1]
    entry.author.locale = "en"
    votes_round = make_public_round(railing_call, transport_organiser, mode="votes", votes=3)
    voter = make_voter("voter@example.org", locale="en")
    voided = make_voter("voided@example.org")
    twice = make_voter("twice@example.org", locale="en")
    picker = make_voter("picker@example.org")
    bystander = make_voter("bystander@example.org")  # backed another entry only
    with app.test_request_context():
        for user in (voter, voided, twice):
            public_service.cast_vote(user, votes_round, entry)
        public_service.cast_vote(bystander, votes_round, other)
    db.session.commit()
    ballot = db.session.scalar(select(Vote.id).where(Vote.user_id == voided.id))
    public_service.void(transport_organiser, votes_round, [ballot], "重复账号")
    pairs_round = Round(call=railing_call, position=2, kind=RoundKind.PUBLIC, public_mode=PublicMode.PAIRWISE,
                        title="两两比较", opens_at=votes_round.closes_at, jurors_per_entry=0,
                        closes_at=votes_round.closes_at + timedelta(days=7))
    db.session.add(pairs_round)
    db.session.flush()
    third = entries[2]
    # `twice` picked the entry in two comparisons (one answer per pair: against two others).
    for n, (user, rival, winner) in enumerate([(picker, other, entry), (twice, other, entry), (twice, third, entry),
                                               (bystander, other, other)]):
        db.session.add(Comparison(round_id=pairs_round.id, user_id=user.id, nonce=f"n{n}", left_id=entry.id,
                                  right_id=rival.id, winner_id=winner.id))
    db.session.commit()
    outbox.clear()

    assert entry.author_id  # loaded before counting
    with count_queries() as counter:
        people = followup_service.backers(entry)
    assert counter.n == 1
    assert {u.email for u in people} == {entry.author.email, voter.email, twice.email, picker.email}

    follow_up = adopt(entry, transport_organiser)
    with app.test_request_context():
        followup_service.add_update(transport_organiser, follow_up, stage=FollowUpStage.ADOPTED, progress=10,
                                    text="方案已转交设计院。", happened_on=utcnow())  # no new stage: no mail
        followup_service.add_update(transport_organiser, follow_up, stage=FollowUpStage.REFINING, progress=30,
                                    text="深化设计中。", happened_on=utcnow())
    db.session.commit()

    told = {}
    expected = {entry.author: "en", voter: "en", twice: "en", picker: "zh"}
    for mail in outbox:
        if mail.to in {u.email for u in expected}:
            told.setdefault(mail.to, []).append(mail)
        else:  # the call's other entrants follow it (by sending their entries): a follower's mail, not a backer's
            with force_locale(mail.locale):
                assert gettext("To stop following this call, open this link (no need to log in):") in mail.body
            assert "/unfollow/" in mail.body
    assert set(told) == {u.email for u in expected}
    for user, locale in expected.items():
        mails = told[user.email]
        assert len(mails) == 2, user.email  # adopted, then being refined
        assert all(m.locale == locale for m in mails)
        assert f"/calls/{railing_call.id}/follow-up" in mails[-1].body
    assert told[voter.email][-1].subject == "News of “作品0”: Being refined"
    with force_locale("zh"):
        in_chinese = gettext("News of “%(title)s”: %(stage)s", title="作品0", stage=FollowUpStage.REFINING.label)
    assert told[picker.email][-1].subject == in_chinese
    assert "an entry you backed" in told[voter.email][-1].body
    assert "Your entry “作品0”" in told[entry.author.email][-1].body


# The pages --------------------------------------------------------------------------------------

def test_the_public_pages_run_a_constant_number_of_queries(app, transport_commission, transport_organiser,
                                                           count_queries):
    first = make_call(transport_commission, title="道路栏杆")
    second = make_call(transport_commission, title="口袋公园")
    first_entries = approved_entries(first, 5, start_seed=400)
    second_entries = approved_entries(second, 3, start_seed=500)
    visitor = app.test_client()

    def follow(entry, seed):
        follow_up = adopt(entry, transport_organiser)
        with app.test_request_context():
            followup_service.add_update(transport_organiser, follow_up, stage=FollowUpStage.BUILDING, progress=50,
                                        text="施工中", happened_on=utcnow(), upload=picture_bytes(seed),
                                        image_alt="施工现场")
        db.session.commit()

    def queries(url):
        db.session.commit()
        with count_queries() as counter:
            assert visitor.get(url).status_code == 200
        return counter.n

    for n, entry in enumerate(first_entries[:2]):
        follow(entry, 600 + n)
    few = (queries(f"/calls/{first.id}/follow-up"), queries("/from-idea-to-street"))
    for n, entry in enumerate(first_entries[2:] + second_entries):
        follow(entry, 700 + n)
    assert count_rows(FollowUp) == 8
    many = (queries(f"/calls/{first.id}/follow-up"), queries("/from-idea-to-street"))
    print(f"queries with 2 and with 8 follow-ups: {few} {many}")
    assert few == many

    html = page_of(visitor, "/from-idea-to-street")
    assert html.index("口袋公园") < html.index("道路栏杆")  # the call with the latest news first
    assert html.count('aria-current="step"') == 8


def test_the_console_proposes_the_awarded_entries_and_adopts_any_other_by_its_number(
        organiser_client, railing_call, entries, transport_organiser):
    from contest.models import Award, Prize

    railing_call.results_published_at = utcnow()
    ranking = [Row(entry=entries[2].id, rank=1, finalist=True), Row(entry=entries[0].id, rank=2, finalist=True)]
    results_stored.store(railing_call, Snapshot(None, FormulaUsed(0, 100, "ranks"), ranking, [], Figures()))
    first, second = Prize(call_id=railing_call.id, position=0, name="一等奖"), Prize(
        call_id=railing_call.id, position=1, name="二等奖")
    db.session.add_all([first, second])
    db.session.flush()
    db.session.add_all([Award(call_id=railing_call.id, entry_id=entries[0].id, prize_id=second.id),
                        Award(call_id=railing_call.id, entry_id=entries[2].id, prize_id=first.id)])
    db.session.commit()
    html = page_of(organiser_client, manage_url(railing_call))
    assert "<select" not in html.split('id="adopt-heading"', 1)[1].split("</section>")[0]  # no list of every entry
    proposed = re.findall(r'name="adopt-entry_id" value="(\d+)"', html)
    assert proposed == [str(entries[2].id), str(entries[0].id)]  # in the order of the prizes
    # A number of no entry of the call is refused with a message, and nothing is adopted.
    response = organiser_client.post(manage_url(railing_call), data={
        "adopt-entry_id": "999999", "adopt-submit": "y", "adopt-csrf_token": csrf_token(organiser_client,
                                                                                         manage_url(railing_call))})
    assert response.status_code == 400
    assert "No entry of this call has the number 999999." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
    # Any entry by its number; an adopted awarded entry is no longer proposed.
    assert post_adopt(organiser_client, railing_call, entries[1]).status_code == 302
    adopt(entries[2], transport_organiser)
    html = page_of(organiser_client, manage_url(railing_call))
    assert re.findall(r'name="adopt-entry_id" value="(\d+)"', html) == [str(entries[0].id)]
    assert f"Add an update to “{entries[2].title}”" in html and f"Add an update to “{entries[1].title}”" in html
