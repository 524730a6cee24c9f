"""QR posters: organisers make a poster per place it hangs; its QR code (decoded here with zxing-cpp) leads to the
call's page with the poster's code, and an entry sent by someone who arrived that way counts as channel
"poster" in the call's figures."""
import io
import logging
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from flask import current_app
from PIL import Image
from PIL.PdfParser import PdfParser
from sqlalchemy import select

from contest import poster_art
from contest.extensions import db
from contest.models import AuditEvent, Channel, Entry, EntryStatus, Poster
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services import posters as poster_service
from contest.services.results import figures
from tests.helpers import (
    count_rows,
    log_in,
    make_call,
    make_department,
    make_organiser,
    make_user,
    post_form,
    submit_design,
)

A4_300_DPI = (2480, 3508)


@pytest.fixture
def organiser_client(english_organiser_client):
    """This module reads the organiser's pages in English."""
    return english_organiser_client


def make_poster(call, organiser, label="田林街道 红色信箱 3号", place=None) -> Poster:
    with current_app.test_request_context():
        poster = poster_service.create_poster(organiser, call, label=label, place_id=place.id if place else None)
    db.session.commit()
    return poster


def address_of(poster) -> str:
    return f"http://localhost/calls/{poster.call_id}?via={poster.code}"


def decoded(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def approve_all(call):
    for entry in db.session.scalars(select(Entry).where(Entry.call_id == call.id)):
        entry.status = EntryStatus.APPROVED
    db.session.commit()


# Making posters ---------------------------------------------------------------------------------

def test_an_organiser_makes_a_poster_and_sees_it_listed(organiser_client, call, transport_organiser, city):
    page = f"/console/calls/{call.id}/posters"
    html = organiser_client.get(page).get_data(as_text=True)
    assert "No posters yet." in html
    response = post_form(organiser_client, page, {"label": "Tianlin Street, red mailbox no. 3",
                                                  "place_id": str(city.id)})
    assert response.status_code == 302
    poster = db.session.scalar(select(Poster))
    assert (poster.call_id, poster.label, poster.place_id) == (call.id, "Tianlin Street, red mailbox no. 3", city.id)
    assert len(poster.code) >= 8
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "poster.create"))
    assert event.actor_id == transport_organiser.id and event.target_id == poster.id
    html = unescape(organiser_client.get(page).get_data(as_text=True))
    assert "Tianlin Street, red mailbox no. 3" in html and address_of(poster) in html
    assert f"/console/posters/{poster.id}/poster.png" in html and f"/console/posters/{poster.id}/poster.pdf" in html
    # The console's call page links to the posters.
    assert page in organiser_client.get(f"/console/calls/{call.id}/").get_data(as_text=True)


def test_a_poster_needs_to_say_where_it_hangs(organiser_client, call):
    page = f"/console/calls/{call.id}/posters"
    response = post_form(organiser_client, page, {"label": "  ", "place_id": "0"})
    assert response.status_code == 400
    assert "Say where the poster will hang." in response.get_data(as_text=True)
    response = post_form(organiser_client, page, {"label": "x" * 201, "place_id": "0"})
    assert response.status_code == 400
    assert count_rows(Poster) == 0


def test_no_poster_for_a_closed_call(app, organiser_client, transport_commission, transport_organiser):
    closed = make_call(transport_commission, state="closed")
    with app.test_request_context(), pytest.raises(ServiceError):
        poster_service.create_poster(transport_organiser, closed, label="红色信箱")
    db.session.rollback()
    html = organiser_client.get(f"/console/calls/{closed.id}/posters").get_data(as_text=True)
    assert "This call is closed" in html
    assert count_rows(Poster) == 0


def test_the_list_of_posters_runs_the_same_queries_for_one_poster_or_many(organiser_client, call,
                                                                          transport_organiser, city,
                                                                          count_queries):
    make_poster(call, transport_organiser, place=city)
    with count_queries() as one:
        organiser_client.get(f"/console/calls/{call.id}/posters")
    for n in range(5):
        make_poster(call, transport_organiser, label=f"信箱 {n}", place=city)
    with count_queries() as six:
        assert organiser_client.get(f"/console/calls/{call.id}/posters").status_code == 200
    assert six.n == one.n


# Entries through a poster -----------------------------------------------------------------------

def test_an_entry_sent_after_scanning_the_poster_counts_as_poster(app, call, transport_organiser):
    poster = make_poster(call, transport_organiser)
    make_user("scanner@example.org", name="扫码者")
    make_user("browser@example.org", name="网页用户")

    # Scanned on the street before logging in: the poster is remembered through the login.
    scanner = app.test_client()
    response = scanner.get(urlsplit(address_of(poster)).path + f"?via={poster.code}")
    assert response.status_code == 200
    log_in(scanner, "scanner@example.org")
    assert submit_design(scanner, call, title="扫码来的栏杆").status_code == 302

    # Found the call on the web: no poster.
    browser = app.test_client()
    log_in(browser, "browser@example.org")
    browser.get(f"/calls/{call.id}")
    assert submit_design(browser, call, title="网上来的栏杆").status_code == 302

    scanned = db.session.scalar(select(Entry).where(Entry.title == "扫码来的栏杆"))
    found = db.session.scalar(select(Entry).where(Entry.title == "网上来的栏杆"))
    assert (scanned.channel, scanned.poster_id) == (Channel.POSTER, poster.id)
    assert (found.channel, found.poster_id) == (Channel.WEB, None)

    approve_all(call)
    by_channel = dict(figures(call).by_channel)
    assert by_channel == {"poster": 1, "web": 1}
    with app.test_request_context():
        [row] = poster_service.posters_of(call)
    assert (row.entries, row.approved) == (1, 1)


def test_a_phone_that_scanned_the_poster_counts_as_poster_and_one_that_did_not_as_mobile(app, call,
                                                                                          transport_organiser):
    poster = make_poster(call, transport_organiser)
    phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    for email, path in (("scanner@example.org", f"/calls/{call.id}?via={poster.code}"),
                        ("walker@example.org", f"/calls/{call.id}")):
        make_user(email)
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = phone
        log_in(client, email)
        client.get(path)
        assert submit_design(client, call, title=email).status_code == 302
    channels = dict(db.session.execute(select(Entry.title, Entry.channel)).all())
    assert channels == {"scanner@example.org": Channel.POSTER, "walker@example.org": Channel.MOBILE}


def test_an_unknown_or_foreign_code_is_ignored(app, call, transport_commission, transport_organiser):
    other_call = make_call(transport_commission, title="口袋公园")
    foreign = make_poster(other_call, transport_organiser)
    codes = ["nonsense", "x" * 500, foreign.code, ""]
    for n, code in enumerate(codes):
        email = f"visitor{n}@example.org"
        make_user(email)
        client = app.test_client()
        log_in(client, email)
        response = client.get(f"/calls/{call.id}", query_string={"via": code})
        assert response.status_code == 200  # never an error page
        assert submit_design(client, call, title=email).status_code == 302
    entries = db.session.scalars(select(Entry).where(Entry.call_id == call.id)).all()
    assert len(entries) == len(codes)
    assert {(e.channel, e.poster_id) for e in entries} == {(Channel.WEB, None)}


def test_a_poster_counts_only_for_its_own_call(app, call, transport_commission, transport_organiser):
    """Scanning the railing call's poster, then sending an entry to another call: that entry is not the poster's."""
    poster = make_poster(call, transport_organiser)
    other_call = make_call(transport_commission, title="口袋公园")
    make_user("scanner@example.org")
    client = app.test_client()
    log_in(client, "scanner@example.org")
    client.get(f"/calls/{call.id}?via={poster.code}")
    assert submit_design(client, other_call, title="公园").status_code == 302
    entry = db.session.scalar(select(Entry))
    assert (entry.call_id, entry.channel, entry.poster_id) == (other_call.id, Channel.WEB, None)


def test_the_poster_is_remembered_for_a_week(app, call, transport_organiser, monkeypatch):
    poster = make_poster(call, transport_organiser)
    make_user("scanner@example.org")
    client = app.test_client()
    log_in(client, "scanner@example.org")
    client.get(f"/calls/{call.id}?via={poster.code}")
    later = utcnow() + timedelta(days=7, minutes=1)
    monkeypatch.setattr("contest.poster_visits.utcnow", lambda: later)
    assert submit_design(client, call).status_code == 302
    assert db.session.scalar(select(Entry.channel)) is Channel.WEB


# The poster itself ------------------------------------------------------------------------------

def test_the_png_poster_is_a4_at_300_dpi_and_its_qr_code_leads_to_the_call_with_the_poster_code(
        organiser_client, call, transport_organiser):
    poster = make_poster(call, transport_organiser)
    response = organiser_client.get(f"/console/posters/{poster.id}/poster.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "PNG" and image.size == A4_300_DPI
    assert [round(d) for d in image.info["dpi"]] == [300, 300]
    [url] = decoded(image)
    assert url == address_of(poster)
    parts = urlsplit(url)
    assert parts.path == f"/calls/{call.id}" and parse_qs(parts.query) == {"via": [poster.code]}
    # ... and that address is the public call page, which remembers the poster.
    assert organiser_client.get(parts.path + "?" + parts.query).status_code == 200


def test_the_pdf_poster_is_one_a4_page_whose_qr_code_decodes(organiser_client, call, transport_organiser):
    poster = make_poster(call, transport_organiser)
    response = organiser_client.get(f"/console/posters/{poster.id}/poster.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.data
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pdf = PdfParser(buf=data)  # reads the cross-reference table and the trailer: a well-formed file
    [page] = pdf.pages
    media_box = [float(v) for v in pdf.read_indirect(page)[b"MediaBox"]]
    assert media_box[:2] == [0, 0]
    assert abs(media_box[2] / 72 * 25.4 - 210) < 1 and abs(media_box[3] / 72 * 25.4 - 297) < 1  # A4 in mm
    # The page's picture is a JPEG stream: take it out and read its QR code.
    jpeg = data[data.index(b"\xff\xd8\xff"):data.rindex(b"\xff\xd9") + 2]
    image = Image.open(io.BytesIO(jpeg))
    assert image.size == A4_300_DPI
    assert decoded(image) == [address_of(poster)]


def title_ink(png: bytes) -> int:
    """Black pixels where the call's title is drawn (below the red band, above the QR code; the dates are red)."""
    image = Image.open(io.BytesIO(png)).convert("RGB").crop((poster_art.MARGIN, 400, A4_300_DPI[0] - 180, 800))
    darkest = image.point(lambda v: 255 if v < 100 else 0).convert("L", matrix=(1 / 3, 1 / 3, 1 / 3, 0))
    return darkest.histogram()[255]


def test_the_poster_is_drawn_with_a_cjk_font_when_there_is_one(organiser_client, call, transport_organiser):
    assert poster_art.find_cjk_font(None) is not None, \
        "no CJK font installed: scripts/test installs Debian's fonts-wqy-microhei"
    poster = make_poster(call, transport_organiser)
    png = organiser_client.get(f"/console/posters/{poster.id}/poster.png").data
    assert title_ink(png) > 20_000  # the Chinese title 道路栏杆请您绘, drawn


def test_without_a_cjk_font_the_poster_still_prints_its_code_and_address(app_factory, call, transport_organiser,
                                                                          tmp_path, caplog, monkeypatch):
    # Alembic's fileConfig, run by the migrations at the start of the run, disables the loggers that existed.
    monkeypatch.setattr(logging.getLogger("contest.services.posters"), "disabled", False)
    poster = make_poster(call, transport_organiser)
    fontless = app_factory(POSTER_FONT=str(tmp_path / "no-such-font.ttc"))  # the same database
    client = fontless.test_client()
    log_in(client, transport_organiser.email)
    with caplog.at_level(logging.WARNING, logger="contest.services.posters"):
        response = client.get(f"/console/posters/{poster.id}/poster.png")
    assert response.status_code == 200
    assert "No CJK font" in caplog.text
    image = Image.open(io.BytesIO(response.data))
    assert image.size == A4_300_DPI
    assert decoded(image) == [address_of(poster)]
    assert title_ink(response.data) == 0  # the Chinese title is left out rather than drawn as empty boxes
    pdf = client.get(f"/console/posters/{poster.id}/poster.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert client.get(f"/console/posters/{poster.id}").status_code == 200  # the HTML page needs no font


def test_a_file_that_is_not_a_font_counts_as_no_font(tmp_path):
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    assert poster_art.find_cjk_font(str(broken)) is None


def test_long_text_wraps_inside_the_poster():
    font = poster_art._font(None, 60)
    lines = poster_art.wrap("为城市道路栏杆设计新图案。" * 20 + " Design new railings for the city's roads.", font, 800)
    assert len(lines) > 5 and all(font.getlength(line) <= 800 for line in lines)
    assert "railings" in " ".join(lines)  # Latin words are not cut


def test_the_printable_page_holds_the_poster_with_an_inline_svg_qr_code(organiser_client, call,
                                                                         transport_organiser):
    poster = make_poster(call, transport_organiser)
    response = organiser_client.get(f"/console/posters/{poster.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<svg" in html and 'viewBox="0 0' in html
    assert " style=" not in html and "<script" not in html  # the CSP allows neither
    assert call.title in html and address_of(poster) in unescape(html)
    assert "Scan the code to read the call and send your entry" in html
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


# Who may see posters ----------------------------------------------------------------------------

def test_posters_are_for_the_calls_staff_only(app, call, transport_organiser, planning_bureau):
    poster = make_poster(call, transport_organiser)
    make_user("citizen@example.org")
    make_organiser(planning_bureau, "planning@example.org")
    pages = [f"/console/calls/{call.id}/posters", f"/console/posters/{poster.id}",
             f"/console/posters/{poster.id}/poster.png", f"/console/posters/{poster.id}/poster.pdf"]
    anonymous = app.test_client()
    for page in pages:
        response = anonymous.get(page)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    for email in ("citizen@example.org", "planning@example.org"):
        client = app.test_client()
        log_in(client, email)
        for page in pages:
            assert client.get(page).status_code == 403, (email, page)
        response = post_form(client, pages[0], {"label": "我的海报", "place_id": "0"},
                             page="/account/profile")
        assert response.status_code == 403
    organiser = app.test_client()
    log_in(organiser, transport_organiser.email)
    assert organiser.get("/console/posters/999999").status_code == 404
    assert organiser.get("/console/posters/999999/poster.png").status_code == 404
    assert count_rows(Poster) == 1


def test_a_co_organising_department_makes_posters_too(app, city, transport_commission, transport_organiser):
    administration = make_department("上海市道路运输管理局", parent=city)
    joint = make_call(transport_commission, co_departments=[administration])
    colleague = make_organiser(administration, "roads@example.org")
    poster = make_poster(joint, colleague)
    client = app.test_client()
    log_in(client, colleague.email)
    assert client.get(f"/console/posters/{poster.id}/poster.png").status_code == 200
    assert re.search(r"道路栏杆请您绘", client.get(f"/console/posters/{poster.id}").get_data(as_text=True))
