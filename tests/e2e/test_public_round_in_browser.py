"""A citizen compares five pairs in a pairwise round, and votes and takes a vote back in a votes round."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from contest.extensions import db
from contest.models import Comparison, Vote
from tests.helpers import approved_entries, make_call, make_public_round, make_voter, zh, zh_n

pytestmark = pytest.mark.browser


def log_in(page, base, email):
    page.goto(base + "/account/login")
    page.get_by_label(zh("E-mail address")).fill(email)
    page.get_by_label(zh("Password")).fill("correct horse battery")
    page.get_by_role("main").get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("status")).to_contain_text(zh("You are logged in."))


def count(model) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(model))


def test_compare_five_pairs_then_vote_and_take_it_back(app, live_server, page, transport_commission,
                                                      planning_bureau, transport_organiser):
    railing = make_call(transport_commission)
    approved_entries(railing, 4)
    pairwise_round = make_public_round(railing, transport_organiser, mode="pairwise")
    ideas = make_call(planning_bureau, title="社区生活圈")
    idea_entries = approved_entries(ideas, 3, start_seed=500)
    from tests.helpers import make_organiser

    planner = make_organiser(planning_bureau, "planner@example.org")
    votes_round = make_public_round(ideas, planner, mode="votes", votes=2)
    pairwise_id, votes_id, first_title = pairwise_round.id, votes_round.id, idea_entries[0].title
    make_voter("walker@example.org")
    log_in(page, live_server, "walker@example.org")

    page.goto(f"{live_server}/rounds/{pairwise_id}")
    page.get_by_role("link", name=zh("Start comparing")).click()
    for n in range(5):
        page.locator(".pair-choice button").nth(n % 2).click()
        expect(page.get_by_role("status")).to_contain_text(zh("Thank you: your answer is counted."))
    made = zh_n("You have made %(num)d comparison.", "You have made %(num)d comparisons.", 5)
    expect(page.get_by_role("main")).to_contain_text(made)
    assert count(Comparison) == 5

    page.goto(f"{live_server}/rounds/{votes_id}")
    page.get_by_role("button", name=f"{zh('Vote')} {first_title}").click()
    expect(page.get_by_role("status")).to_contain_text(zh("Your vote for “%(title)s” is counted.", title=first_title))
    assert count(Vote) == 1
    page.get_by_role("button", name=f"{zh('Take back my vote')} {first_title}").click()
    expect(page.get_by_role("status")).to_contain_text(
        zh("Your vote for “%(title)s” is taken back.", title=first_title))
    assert count(Vote) == 0
