"""Entry forms that save the entrant's work: the call's limits said before the form is filled, the theme a design
answers, a rejected entry's way back to moderation, and pictures kept when the form comes back with an error."""
import csv
import io
import re

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import CallTheme, Entry, EntryStatus
from tests.helpers import log_in, make_call, picture_bytes, post_form, submit_design, zh


@pytest.fixture
def themed_call(transport_commission):
    call = make_call(transport_commission, image_formats=["PNG"], entries_per_person=2)
    call.themes = [CallTheme(name="红色文化"), CallTheme(name="海派文化"), CallTheme(name="江南文化")]
    db.session.commit()
    return call


@pytest.fixture
def entrant(client, citizen):
    log_in(client, citizen.email)
    return citizen


def test_the_form_says_the_limit_and_the_accepted_types_before_it_is_filled(client, entrant, themed_call):
    html = client.get(f"/calls/{themed_call.id}/enter").get_data(as_text=True)
    assert zh("You may send up to %(n)d entries to this call; you have sent %(sent)d.", n=2, sent=0) in html
    assert zh("Accepted file types: %(types)s.", types="PNG") in html
    inputs = re.findall(r'<input[^>]*type="file"[^>]*>', html)
    assert inputs and all('accept="image/png"' in tag for tag in inputs), inputs
    submit_design(client, themed_call, images=[("a.png", picture_bytes(1, fmt="PNG"))])
    html = client.get(f"/calls/{themed_call.id}/enter").get_data(as_text=True)
    assert zh("You may send up to %(n)d entries to this call; you have sent %(sent)d.", n=2, sent=1) in html


def test_an_entrant_picks_the_theme_the_design_answers(client, entrant, themed_call, transport_organiser,
                                                       transport_commission):
    haipai = themed_call.themes[1]
    html = client.get(f"/calls/{themed_call.id}/enter").get_data(as_text=True)
    assert all(f'<option value="{t.id}">{t.name}</option>' in html for t in themed_call.themes)
    other = make_call(transport_commission, title="另一个征集")
    other.themes = [CallTheme(name="别的主题")]
    db.session.commit()
    response = submit_design(client, themed_call, images=[("a.png", picture_bytes(1, fmt="PNG"))],
                             extra={"theme_id": str(other.themes[0].id)})
    assert response.status_code == 400 and db.session.scalar(select(Entry)) is None
    response = submit_design(client, themed_call, images=[("a.png", picture_bytes(1, fmt="PNG"))],
                             extra={"theme_id": str(haipai.id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = db.session.scalar(select(Entry))
    assert entry.theme_id == haipai.id
    assert "海派文化" in client.get(f"/entries/{entry.id}").get_data(as_text=True)
    edit = client.get(f"/entries/{entry.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{haipai.id}">海派文化</option>' in edit

    entry.status = EntryStatus.APPROVED
    db.session.commit()
    api = client.get(f"/api/v1/entries/{entry.id}").get_json()
    assert api["theme"] == {"id": haipai.id, "name": "海派文化"}
    organiser = client.application.test_client()
    log_in(organiser, transport_organiser.email)
    text = organiser.get(f"/console/calls/{themed_call.id}/entries.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert rows[0]["theme"] == "海派文化"


def test_editing_a_rejected_entry_says_it_goes_back_to_moderation_and_it_does(client, entrant, themed_call,
                                                                               transport_organiser):
    submit_design(client, themed_call, images=[("a.png", picture_bytes(1, fmt="PNG"))])
    entry = db.session.scalar(select(Entry))
    organiser = client.application.test_client()
    log_in(organiser, transport_organiser.email)
    entry.status, entry.rejection_reason = EntryStatus.REJECTED, "图片不清晰"
    db.session.commit()
    html = client.get(f"/entries/{entry.id}/edit").get_data(as_text=True)
    assert zh("Your entry was rejected. Once you save your changes it goes back to moderation and is checked "
              "again.") in html
    picture = entry.images[0]
    response = post_form(client, f"/entries/{entry.id}/edit", {"title": "更清晰的海派栏杆", "topic_id": "0",
                                                                "place_id": "0", "theme_id": "0",
                                                                f"alt-{picture.id}": "清晰的栏杆图"})
    assert response.status_code == 302
    db.session.refresh(entry)
    assert entry.status is EntryStatus.SUBMITTED and entry.rejection_reason == ""
    moderation = organiser.get(f"/console/calls/{themed_call.id}/moderation").get_data(as_text=True)
    assert "更清晰的海派栏杆" in moderation
