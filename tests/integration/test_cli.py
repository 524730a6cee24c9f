import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import Department, DepartmentKind, User
from contest.services.accounts import find_user_by_email
from tests.helpers import zh
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
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert (db.session.scalar(select(db.func.count()).select_from(Department)),
            db.session.scalar(select(db.func.count()).select_from(User))) == counts


def test_demo_refuses_to_run_in_production(app_factory):
    app = app_factory(CONTEST_ENV="production")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
