"""Actions that cannot be undone ask first, on a page of their own (a GET with a CSRF form, no script needed):
closing an expert round's scoring now, and making the results final."""
import re
from datetime import timedelta

from contest.extensions import db
from contest.models import RoundState
from contest.models.types import utcnow
from contest.services import results as results_service
from tests.helpers import approved_entries, log_in, make_call, make_round, post_form, zh


def _form_to(html: str, action: str) -> bool:
    """A form posting to `action`, with its CSRF token."""
    forms = re.findall(r'<form[^>]*method="post"[^>]*>.*?</form>', html, re.S)
    return any((f'action="{action}"' in form or "action=" not in form.split(">", 1)[0])
               and 'name="csrf_token"' in form for form in forms)


def test_closing_scoring_now_asks_on_a_page_of_its_own(client, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    approved_entries(call, 2)
    round_ = make_round(call, transport_organiser)
    log_in(client, transport_organiser.email)
    url = f"/console/rounds/{round_.id}/close"
    round_page = client.get(f"/console/rounds/{round_.id}/").get_data(as_text=True)
    assert f'href="{url}"' in round_page  # the round's page leads to the question, it does not close at once

    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert zh("Close scoring in “%(round)s” now?", round=round_.title) in html and _form_to(html, url)
    db.session.refresh(round_)
    assert round_.state is RoundState.OPEN  # asking changed nothing

    response = post_form(client, url, page=url)
    assert response.status_code == 302
    db.session.refresh(round_)
    assert round_.state is RoundState.CLOSED
    closed = client.get(url).get_data(as_text=True)
    assert zh("Scoring can only be closed while it is open.") in closed and not _form_to(closed, url)


def test_making_the_results_final_asks_on_a_page_of_its_own(app, client, story, transport_organiser):  # noqa: F811
    call = story["call"]
    with app.test_request_context():
        results_service.publish(transport_organiser, call, 7, None)
    db.session.commit()
    log_in(client, transport_organiser.email)
    url = f"/console/calls/{call.id}/results/finalise"
    early = client.get(url).get_data(as_text=True)
    assert zh("The notice period is not over yet.") in early and not _form_to(early, url)

    call.notice_ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    console = client.get(f"/console/calls/{call.id}/results").get_data(as_text=True)
    assert f'href="{url}"' in console
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert zh("Make the results of “%(call)s” final?", call=call.title) in html and _form_to(html, url)
    db.session.refresh(call)
    assert call.results_final_at is None

    assert post_form(client, url, page=url).status_code == 302
    db.session.refresh(call)
    assert call.results_final_at is not None
    again = client.get(url).get_data(as_text=True)
    assert zh("The results are already final.") in again and not _form_to(again, url)
