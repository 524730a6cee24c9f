"""Entry forms that save the entrant's work: the call's limits said before the form is filled, the theme a design
answers, a rejected entry's way back to moderation, and pictures kept when the form comes back with an error."""
import csv
import io
import re
from pathlib import Path

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
    assert api["theme"] == {"id": haipai.id, "name": {"zh": "海派文化", "en": None}}
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


def _held_tokens(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(image-\d+-held)" value="([^"]+)">', html))


def test_pictures_sent_with_a_refused_form_are_kept_shown_and_sent_once(app, client, entrant, themed_call,
                                                                         another_client, citizen):
    files = [("a.png", picture_bytes(1, fmt="PNG")), ("b.png", picture_bytes(2, fmt="PNG"))]
    # The title is missing: the form comes back, and both pictures with it, shown, with nothing to choose again.
    refused = submit_design(client, themed_call, title="", images=files)
    assert refused.status_code == 400 and db.session.scalar(select(Entry)) is None
    html = refused.get_data(as_text=True)
    tokens = _held_tokens(html)
    assert set(tokens) == {"image-1-held", "image-2-held"}
    assert html.count(zh("Kept from your last try: you need not choose it again.")) == 2
    shown = re.findall(r'<img src="(/media/\d+/gallery)"', html)
    assert len(shown) == 2 and all(client.get(url).status_code == 200 for url in shown)
    # Held for their sender alone: another citizen neither sees them nor can send them.
    assert another_client.get(shown[0]).status_code == 404

    # Refused again (no description for the second picture): still kept, and said beside its field.
    data = {"title": "海派栏杆", "description": "", "topic_id": "0", "place_id": "0", "theme_id": "0", "accept": "y",
            "image-1-alt": "第一张", "image-2-alt": "", **tokens}
    again = post_form(client, f"/calls/{themed_call.id}/enter", data, page=f"/calls/{themed_call.id}/enter",
                      content_type="multipart/form-data")
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert zh("Image %(n)d: describe it in a sentence for people who cannot see it.", n=2) in html
    assert _held_tokens(html) == tokens

    # Sent with its descriptions: one entry, with both pictures, in order; no file was chosen again.
    data["image-2-alt"] = "第二张"
    sent = post_form(client, f"/calls/{themed_call.id}/enter", data, page=f"/calls/{themed_call.id}/enter",
                     content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    entry = db.session.scalar(select(Entry))
    assert [p.alt_text for p in entry.images] == ["第一张", "第二张"]
    assert client.get(f"/media/{entry.images[0].image_id}/gallery").status_code == 200
    # The same form sent twice (a double click, the back button): the pictures are taken once, one entry only.
    twice = post_form(client, f"/calls/{themed_call.id}/enter", data, page=f"/calls/{themed_call.id}/enter",
                      content_type="multipart/form-data")
    assert twice.status_code == 400
    assert zh("Image %(n)d: the picture you sent before was already used or kept too long. Please choose the file "
              "again.", n=1) in twice.get_data(as_text=True)
    assert len(db.session.scalars(select(Entry)).all()) == 1


def test_a_held_picture_is_its_senders_alone_and_expires(app, client, entrant, themed_call, transport_commission):
    from datetime import timedelta

    from contest.models import Image, PendingUpload
    from contest.models.types import utcnow
    from contest.worker import run_clock
    from tests.helpers import make_user
    from tests.integration.test_outbox import in_a_worker

    refused = submit_design(client, themed_call, title="", images=[("a.png", picture_bytes(1, fmt="PNG"))])
    tokens = _held_tokens(refused.get_data(as_text=True))
    other = make_user("other@example.org", name="李四")
    thief = client.application.test_client()
    log_in(thief, other.email)
    data = {"title": "借来的图", "topic_id": "0", "place_id": "0", "theme_id": "0", "accept": "y",
            "image-1-alt": "别人的图", **tokens}
    stolen = post_form(thief, f"/calls/{themed_call.id}/enter", data, page=f"/calls/{themed_call.id}/enter",
                       content_type="multipart/form-data")
    assert stolen.status_code == 400 and db.session.scalar(select(Entry)) is None
    pending = db.session.scalar(select(PendingUpload))
    assert pending.user_id == entrant.id  # still held for its sender

    image_id, files = pending.image_id, [f.key for f in pending.image.files]
    root = Path(app.config["UPLOAD_DIR"])
    assert files and all((root / key).exists() for key in files)
    # The worker's clock deletes what was held past its time, files and all.
    assert in_a_worker(app, lambda: run_clock(utcnow()))["held_pictures"] == 0
    assert in_a_worker(app, lambda: run_clock(utcnow() + timedelta(days=2)))["held_pictures"] == 1
    assert db.session.get(Image, image_id) is None and db.session.scalar(select(PendingUpload)) is None
    assert not any((root / key).exists() for key in files)
    late = post_form(client, f"/calls/{themed_call.id}/enter", {**data, "title": "我的图"},
                     page=f"/calls/{themed_call.id}/enter", content_type="multipart/form-data")
    assert late.status_code == 400 and db.session.scalar(select(Entry)) is None
