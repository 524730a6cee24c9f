"""The same vote sent 50 times at once, and 10 votes against a quota of 3, against a real server process
(gunicorn, two workers) on the suite's database: nothing is counted twice, no response is a 5xx."""
import re
import threading

import pytest
import requests
from sqlalchemy import func, select

from contest.extensions import db
from contest.models import Vote
from tests.helpers import PASSWORD, approved_entries, make_call, make_public_round, make_voter, zh
from tests.servers import site_environment

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def server(app, app_servers, tmp_path):
    env = site_environment(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "uploads")
    first, = app_servers(env, "A", options=("--workers", "2", "--threads", "8", "--graceful-timeout", "2"))
    return first.base


def logged_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    token = CSRF.search(session.get(base + "/account/login").text).group(1)
    response = session.post(base + "/account/login", data={"csrf_token": token, "email": email,
                                                            "password": PASSWORD}, allow_redirects=False)
    assert response.status_code == 302
    return session


def fire(base, session, round_id, entry_ids, token):
    """Send one vote per entry id, all at the same moment, each from its own connection."""
    barrier = threading.Barrier(len(entry_ids))
    results = []

    def send(entry_id):
        own = requests.Session()
        own.cookies.update(session.cookies)
        barrier.wait()
        response = own.post(f"{base}/rounds/{round_id}/votes/{entry_id}", data={"csrf_token": token}, timeout=60)
        results.append((response.status_code, [r.status_code for r in response.history], response.text))

    threads = [threading.Thread(target=send, args=(e,)) for e in entry_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def stored_votes() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Vote).where(Vote.voided_at.is_(None)))


def test_the_same_vote_fifty_times_at_once_is_stored_once(app, server, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    entries = approved_entries(call, 2)
    round_ = make_public_round(call, transport_organiser, votes=3)
    make_voter("crowd@example.org")
    session = logged_in(server, "crowd@example.org")
    token = CSRF.search(session.get(f"{server}/rounds/{round_.id}").text).group(1)
    results = fire(server, session, round_.id, [entries[0].id] * 50, token)
    counted = zh("Your vote for “%(title)s” is counted.", title=entries[0].title)
    already = zh("You have already voted for this entry.")
    assert len(results) == 50
    assert all(status < 500 and all(h < 500 for h in history) for status, history, _ in results)
    assert sum(counted in text for _, _, text in results) == 1
    assert all(counted in text or already in text for _, _, text in results)
    assert stored_votes() == 1


def test_ten_votes_at_once_against_a_quota_of_three(app, server, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    entries = approved_entries(call, 10)
    round_ = make_public_round(call, transport_organiser, votes=3)
    make_voter("eager@example.org")
    session = logged_in(server, "eager@example.org")
    token = CSRF.search(session.get(f"{server}/rounds/{round_.id}").text).group(1)
    results = fire(server, session, round_.id, [e.id for e in entries], token)
    assert all(status < 500 and all(h < 500 for h in history) for status, history, _ in results)
    used_up = zh("You have used all %(n)d of your votes. Take one back to vote for another entry.", n=3)
    assert sum(used_up in text for _, _, text in results) == 7
    assert stored_votes() == 3
