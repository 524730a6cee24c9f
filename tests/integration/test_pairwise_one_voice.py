"""One person, one voice in a pairwise round: each unordered pair counts once per citizen, however often the
page is opened or an answer sent; the pair shown is stored; the integrity view names who repeats or abandons."""
import html
import re
import threading
from datetime import timedelta
from itertools import combinations
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from contest.extensions import db
from contest.models import Comparison, EntryStatus
from contest.models.types import utcnow
from tests.helpers import approved_entries, log_in, make_call, make_public_round, make_voter, post_form, zh

NOTHING_LEFT = "There is nothing left to compare for you. Thank you!"
REPEATED = "You have already answered this pair: your first answer counts, this one does not."
STALE = "This pair is no longer valid. Here is a new one."
THANKS = "Thank you: your answer is counted."
PAIR_RE = re.compile(r'name="pair" value="([^"]+)"')
TITLE_RE = re.compile(r'<div class="pair-choice">.*?<h2>(.*?)</h2>', re.S)


@pytest.fixture
def pairs_round(railing_call, transport_organiser, entries):
    return make_public_round(railing_call, transport_organiser, mode="pairwise")


@pytest.fixture
def citizen(client):
    user = make_voter("pairs@example.org", name="比较者")
    log_in(client, user.email)
    return user


def compare_page(client, round_):
    """The compare page as the citizen sees it: (its text, the pair's token, the two titles as a set)."""
    response = client.get(f"/rounds/{round_.id}/compare")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'href="/rounds/{round_.id}"' in page  # the page of this round, in any language
    token = PAIR_RE.search(page)
    return page, token.group(1) if token else None, frozenset(html.unescape(t) for t in TITLE_RE.findall(page))


def answer(client, round_, token, choice="left", **kwargs):
    # The CSRF token comes from the round's page, so that fetching it does not open the compare page again.
    return post_form(client, f"/rounds/{round_.id}/compare", {"pair": token, "choice": choice},
                     page=f"/rounds/{round_.id}", **kwargs)


def counted(user, round_) -> list[frozenset]:
    """The pairs (as entry ids) of this citizen's answers that count."""
    db.session.commit()
    return [frozenset(pair) for pair in db.session.execute(select(Comparison.left_id, Comparison.right_id).where(
        Comparison.round_id == round_.id, Comparison.user_id == user.id, Comparison.voided_at.is_(None))).all()]


def test_opening_the_page_twenty_times_and_answering_all_counts_one_answer(client, citizen, pairs_round):
    shown = [compare_page(client, pairs_round) for _ in range(20)]
    replies = [answer(client, pairs_round, token, follow_redirects=True) for _, token, _ in shown]
    assert all(reply.status_code == 200 for reply in replies)
    assert len(counted(citizen, pairs_round)) == 1
    assert {titles for _, _, titles in shown} == {shown[0][2]} and len(shown[0][2]) == 2  # the same pair each time
    assert zh(THANKS) in replies[0].get_data(as_text=True)
    for reply in replies[1:]:
        assert zh(REPEATED) in reply.get_data(as_text=True)


def test_each_pair_is_asked_once_then_the_page_says_none_is_left(app, pairs_round, entries):
    every_pair = {frozenset(pair) for pair in combinations([e.title for e in entries], 2)}
    for email, locale, nothing_left in [("zh@example.org", "zh", zh(NOTHING_LEFT)), ("en@example.org", "en",
                                                                                       NOTHING_LEFT)]:
        person = make_voter(email, locale=locale)
        browser = app.test_client()
        log_in(browser, email)
        asked = []
        for _ in range(len(every_pair)):
            _page, token, titles = compare_page(browser, pairs_round)
            asked.append(titles)
            assert answer(browser, pairs_round, token).status_code == 302
        assert set(asked) == every_pair and len(asked) == len(every_pair)  # every pair once, none twice
        page, token, titles = compare_page(browser, pairs_round)
        assert nothing_left in page and token is None and not titles
        assert len(set(counted(person, pairs_round))) == len(counted(person, pairs_round)) == len(every_pair)


def test_the_last_answer_promises_no_next_pair(client, citizen, transport_commission, transport_organiser):
    two = make_call(transport_commission, title="两件作品")
    approved_entries(two, 2, start_seed=300)
    round_ = make_public_round(two, transport_organiser, mode="pairwise")
    _page, token, titles = compare_page(client, round_)
    assert len(titles) == 2
    page = answer(client, round_, token, follow_redirects=True).get_data(as_text=True)
    assert zh(THANKS) in page and zh(NOTHING_LEFT) in page
    assert "下一组" not in page  # no "here is the next pair" where there is none


def test_an_old_token_sent_after_the_next_pair_is_shown_does_not_count_again(client, citizen, pairs_round):
    _page, first, first_titles = compare_page(client, pairs_round)
    assert answer(client, pairs_round, first, "left").status_code == 302
    _page, second, second_titles = compare_page(client, pairs_round)
    assert second_titles != first_titles
    reply = answer(client, pairs_round, first, "right", follow_redirects=True)
    assert reply.status_code == 200 and zh(REPEATED) in reply.get_data(as_text=True)
    assert len(counted(citizen, pairs_round)) == 1
    # The outstanding pair is still there, and its answer counts.
    page, token, titles = compare_page(client, pairs_round)
    assert titles == second_titles and token
    assert zh(THANKS) in answer(client, pairs_round, token, "none", follow_redirects=True).get_data(as_text=True)
    assert len(set(counted(citizen, pairs_round))) == 2


def test_a_pair_whose_entry_left_the_round_is_replaced_and_its_answer_refused(client, citizen, pairs_round,
                                                                              entries):
    _page, token, titles = compare_page(client, pairs_round)
    gone = next(e for e in entries if e.title in titles)
    gone.status = EntryStatus.WITHDRAWN
    db.session.commit()
    _page, new_token, new_titles = compare_page(client, pairs_round)
    assert new_token != token and gone.title not in new_titles and len(new_titles) == 2
    reply = answer(client, pairs_round, token, follow_redirects=True)
    assert reply.status_code == 200 and zh(STALE) in reply.get_data(as_text=True)
    assert counted(citizen, pairs_round) == []
    # Withdrawn while its pair is on screen, without the page opened again: the answer is refused all the same.
    next(e for e in entries if e.title in new_titles).status = EntryStatus.WITHDRAWN
    db.session.commit()
    reply = answer(client, pairs_round, new_token, follow_redirects=True)
    assert reply.status_code == 200 and zh(STALE) in reply.get_data(as_text=True)
    assert counted(citizen, pairs_round) == []


def test_the_integrity_view_lists_citizens_with_repeated_or_abandoned_pairs(app, client, citizen, pairs_round,
                                                                            entries, transport_organiser):
    _page, token, _titles = compare_page(client, pairs_round)
    for _ in range(3):
        answer(client, pairs_round, token)  # one counts, two are refused
    leaver = make_voter("leaver@example.org", name="看了就走")
    away = app.test_client()
    log_in(away, leaver.email)
    compare_page(away, pairs_round)  # shown, never answered
    quiet = make_voter("quiet@example.org", name="安静的人")
    calm = app.test_client()
    log_in(calm, quiet.email)
    _page, calm_token, _titles = compare_page(calm, pairs_round)
    answer(calm, pairs_round, calm_token)

    staff = app.test_client()
    log_in(staff, transport_organiser.email)
    console = f"/console/rounds/{pairs_round.id}/"
    response = staff.get(console)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert zh("Citizens with repeated or abandoned pairs") in page
    section = page.split(zh("Citizens with repeated or abandoned pairs"), 1)[1]
    who = re.escape(zh("%(name)s (#%(id)d)", name="比较者", id=citizen.id))
    assert re.search(rf"{who}</td><td>1</td><td>2</td><td>0</td>", section)
    # While the round is open the pair on the leaver's screen may still be answered; a quiet citizen is no case.
    assert "看了就走" not in section and "安静的人" not in section

    pairs_round.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    section = staff.get(console).get_data(as_text=True).split(zh("Citizens with repeated or abandoned pairs"), 1)[1]
    who = re.escape(zh("%(name)s (#%(id)d)", name="看了就走", id=leaver.id))
    assert re.search(rf"{who}</td><td>0</td><td>0</td><td>1</td>", section)
    assert "安静的人" not in section


@pytest.mark.real_commits  # four requests in threads at once, each on a connection of its own
def test_answers_sent_at_the_same_moment_count_once(app, pairs_round):
    """Four tabs of one citizen opened at once and answered at once: one answer counts, the others are refused."""
    person = make_voter("tabs@example.org")
    browsers = [app.test_client() for _ in range(4)]
    for browser in browsers:
        log_in(browser, person.email)
    round_ref = SimpleNamespace(id=pairs_round.id)  # the threads have no app context to load the round in
    barrier = threading.Barrier(len(browsers))
    shown, replies, errors = {}, {}, []
    thanks, repeated = zh(THANKS), zh(REPEATED)  # here: the threads have no app context to translate in

    def open_then_answer(browser, n):
        try:
            barrier.wait()
            shown[n] = compare_page(browser, round_ref)
            barrier.wait()
            replies[n] = answer(browser, round_ref, shown[n][1], follow_redirects=True).get_data(as_text=True)
        except Exception as error:  # noqa: BLE001 - reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=open_then_answer, args=(b, n)) for n, b in enumerate(browsers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(counted(person, pairs_round)) == 1
    assert len({titles for _, _, titles in shown.values()}) == 1  # the one outstanding pair, in every tab
    assert sum(thanks in page for page in replies.values()) == 1
    assert sum(repeated in page for page in replies.values()) == 3
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Comparison)) == 1
