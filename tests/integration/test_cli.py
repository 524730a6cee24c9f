import re

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import (
    Call,
    Comparison,
    Department,
    DepartmentKind,
    Entry,
    EntryStatus,
    PublicMode,
    Round,
    RoundState,
    User,
    Vote,
)
from contest.models.types import utcnow
from contest.services.accounts import find_user_by_email
from tests.helpers import log_in, post_form, zh, zh_n
from tests.integration.test_accounts import COMMON, REPETITIVE


def test_create_admin_makes_a_confirmed_administrator(runner):
    result = runner.invoke(args=["create-admin", "Boss@Example.org", "--generate"])
    assert result.exit_code == 0, result.output
    user = find_user_by_email("boss@example.org")
    assert user.is_admin and user.is_confirmed
    assert "with password" in result.output


def test_create_admin_promotes_an_existing_user(runner, citizen):
    result = runner.invoke(args=["create-admin", citizen.email])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert find_user_by_email(citizen.email).is_admin


def test_create_admin_refuses_a_weak_password(runner):
    result = runner.invoke(args=["create-admin", "boss@example.org", "--password", "short"])
    assert result.exit_code != 0
    assert find_user_by_email("boss@example.org") is None


@pytest.mark.parametrize(("password", "message"), [("password123", COMMON), ("xqxqxqxqxqxq", REPETITIVE)])
def test_create_admin_refuses_a_common_or_repetitive_password(runner, password, message):
    result = runner.invoke(args=["create-admin", "boss@example.org", "--password", password])
    assert result.exit_code != 0 and zh(message) in result.output
    assert find_user_by_email("boss@example.org") is None


def test_demo_loads_the_shanghai_tree_and_accounts_once(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "admin@example.org" in first.output and "shanghai-demo" in first.output
    counts = (db.session.scalar(select(db.func.count()).select_from(Department)),
              db.session.scalar(select(db.func.count()).select_from(User)))
    districts = db.session.scalars(select(Department).where(Department.kind == DepartmentKind.DISTRICT)).all()
    assert len(districts) == 16
    assert find_user_by_email("transport@example.org").is_organiser
    # Issue 7's pieces: a meeting with its suggestions, posters that brought entries, the common issues.
    from contest.models import Channel, Entry, Meeting, Poster, Tag

    meeting = db.session.scalars(select(Meeting)).one()
    assert {e.channel for e in db.session.scalars(select(Entry).where(Entry.meeting_id == meeting.id))} == \
        {Channel.MEETING}
    assert db.session.scalar(select(db.func.count()).select_from(Poster)) == 2
    assert db.session.scalar(select(db.func.count()).select_from(Entry).where(Entry.channel == Channel.POSTER,
                                                                               Entry.poster_id.isnot(None))) == 2
    assert db.session.scalar(select(db.func.count()).select_from(Tag)) == 3
    calls = db.session.scalar(select(db.func.count()).select_from(Call))
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert (db.session.scalar(select(db.func.count()).select_from(Department)),
            db.session.scalar(select(db.func.count()).select_from(User))) == counts
    assert db.session.scalar(select(db.func.count()).select_from(Call)) == calls == 4


def test_a_newcomer_to_the_demo_votes_in_the_pocket_park_round_and_compares_pairs_at_once(app, demo_snapshot, client):
    """What the README promises: resident@example.org, just loaded, votes and compares, through the pages."""
    demo_snapshot.install(app)  # what `flask demo` loads, as the test above runs it
    log_in(client, "resident@example.org", "shanghai-demo")
    now = utcnow()
    park = db.session.scalar(select(Round).join(Call).where(Call.title.startswith("口袋公园")))
    assert park.public_mode is PublicMode.VOTES and park.state_at(now) is RoundState.OPEN
    page = f"/rounds/{park.id}"
    html = client.get(page).get_data(as_text=True)
    assert zh("Votes left: %(n)d of %(total)d.", n=2, total=2) in html
    idea = db.session.scalars(select(Entry).where(Entry.call_id == park.call_id, Entry.status == EntryStatus.APPROVED)
                              .order_by(Entry.id)).first()
    response = post_form(client, f"/rounds/{park.id}/votes/{idea.id}", page=page, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert zh("Your vote for “%(title)s” is counted.", title=idea.title) in html
    assert zh("Votes left: %(n)d of %(total)d.", n=1, total=2) in html
    resident = find_user_by_email("resident@example.org")
    assert db.session.scalar(select(Vote.entry_id).where(Vote.round_id == park.id, Vote.user_id == resident.id)) \
        == idea.id

    open_pairs = [r for r in db.session.scalars(select(Round).where(Round.public_mode == PublicMode.PAIRWISE))
                  if r.state_at(now) is RoundState.OPEN]
    assert len(open_pairs) == 1
    pairs = open_pairs[0]
    round_page = client.get(f"/rounds/{pairs.id}").get_data(as_text=True)
    assert zh("Start comparing") in round_page
    compare = f"/rounds/{pairs.id}/compare"
    html = client.get(compare).get_data(as_text=True)
    token = re.search(r'name="pair" value="([^"]+)"', html)
    assert token, "a pair to compare"
    response = post_form(client, compare, {"pair": token.group(1), "choice": "left"}, page=compare,
                         follow_redirects=True)
    html = response.get_data(as_text=True)
    assert zh("Thank you: your answer is counted.") in html
    assert zh_n("You have made %(num)d comparison.", "You have made %(num)d comparisons.", 1) in html
    assert db.session.scalar(select(db.func.count()).select_from(Comparison).where(
        Comparison.round_id == pairs.id, Comparison.user_id == resident.id)) == 1


def test_demo_refuses_to_run_in_production(app_factory):
    app = app_factory(CONTEST_ENV="production")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
