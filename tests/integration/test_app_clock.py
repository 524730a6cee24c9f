"""The app's one clock (contest.models.types.utcnow): a test app may move it on, so that a browser test lets days
pass on a live server without touching the database; any other app keeps real time."""
from datetime import UTC, datetime, timedelta

from contest.models.types import utcnow
from tests.helpers import make_call, zh


def test_a_test_app_moves_its_clock_by_the_offset_it_is_given(app):
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)
    app.config["TEST_CLOCK_OFFSET"] = timedelta(days=8)
    assert abs(utcnow() - (datetime.now(UTC) + timedelta(days=8))) < timedelta(seconds=5)


def test_the_pages_of_a_test_app_read_the_moved_clock(app, client, transport_commission):
    call = make_call(transport_commission, title="将来的征集", state="upcoming")
    before = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert zh("Opening soon") in before and zh("Open for entries") not in before
    app.config["TEST_CLOCK_OFFSET"] = call.opens_at - utcnow() + timedelta(minutes=1)  # the call's opening passes
    after = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert zh("Open for entries") in after and zh("Opening soon") not in after


def test_an_app_that_is_not_testing_ignores_the_offset(app_factory):
    real = app_factory(TESTING=False, TEST_CLOCK_OFFSET=timedelta(days=8))
    with real.app_context():
        assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)
