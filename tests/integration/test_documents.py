"""The printed documents of the results, as PDF with real text (extracted here with pdfminer.six) in both
languages: the notice (公示) that the organisers download from the results console, and a certificate per award,
one A4 page, that only its entrant downloads from "my entries"."""
import io

import pytest
from flask_babel import force_locale, format_date
from pdfminer.high_level import extract_text
from pdfminer.pdfpage import PDFPage

from contest.extensions import db
from contest.localtime import format_moment
from contest.services import results as results_service
from tests.helpers import log_in, make_user

A4 = (595.3, 841.9)  # points


@pytest.fixture
def published(app, story, transport_organiser):
    call = story["call"]
    with app.test_request_context():
        results_service.publish(transport_organiser, call, 7, None)
    db.session.commit()
    awards = results_service.awards_of(call)
    return {**story, "awards": awards}


def speak(client, language: str) -> None:
    with client.session_transaction() as session:
        session["lang"] = language


def pdf_of(response) -> tuple[str, list]:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_data()
    assert body.startswith(b"%PDF-")
    pages = list(PDFPage.get_pages(io.BytesIO(body)))
    return " ".join(extract_text(io.BytesIO(body)).split()), pages


def a4(page) -> bool:
    x0, y0, x1, y1 = page.mediabox
    return abs((x1 - x0) - A4[0]) < 2 and abs((y1 - y0) - A4[1]) < 2


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_results_notice_holds_its_text_in_the_readers_language(app, client, published, transport_organiser,
                                                                   language):
    call = published["call"]
    log_in(client, transport_organiser.email)
    speak(client, language)
    page = client.get(f"/console/calls/{call.id}/results").get_data(as_text=True)
    assert f"/console/calls/{call.id}/results/notice.pdf" in page
    text, pages = pdf_of(client.get(f"/console/calls/{call.id}/results/notice.pdf"))
    assert pages and all(a4(p) for p in pages)
    assert call.title in text
    for entry in published["entries"]:
        assert entry.title in text, "the ranking names every entry"
    for award in published["awards"].values():
        assert award.prize.name in text
    with app.test_request_context(), force_locale(language):
        end = format_moment(call.notice_ends_at, "long")
    words = {"zh": ["结果公示", "评分方法", "异议", "公示期", end],
             "en": ["Results notice", "How the score was made", "object", "notice period", end]}[language]
    for word in words:
        assert " ".join(word.split()) in text, word
    assert f"/calls/{call.id}/results" in text.replace(" ", ""), "where to object"


def test_only_the_calls_staff_get_the_notice(app, published):
    citizen = app.test_client()
    make_user("nosy@example.org")
    log_in(citizen, "nosy@example.org")
    assert citizen.get(f"/console/calls/{published['call'].id}/results/notice.pdf").status_code == 403


@pytest.mark.parametrize("language", ["zh", "en"])
def test_an_entrant_downloads_the_certificate_of_their_award_on_one_a4_page(app, client, published, language):
    call = published["call"]
    entry_id, award = next(iter(published["awards"].items()))
    entry = next(e for e in published["entries"] if e.id == entry_id)
    log_in(client, entry.author.email)
    speak(client, language)
    mine = client.get("/my/entries").get_data(as_text=True)
    assert f"/my/entries/{entry.id}/certificate.pdf" in mine
    text, pages = pdf_of(client.get(f"/my/entries/{entry.id}/certificate.pdf"))
    assert len(pages) == 1 and a4(pages[0])
    with app.test_request_context(), force_locale(language):
        day = format_date(call.results_published_at, "long")
    for part in (entry.byline, award.prize.name, call.title, entry.title, call.department.name, day):
        assert " ".join(part.split()) in text, part
    assert ("荣誉证书" if language == "zh" else "Certificate") in text
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False, "WeasyPrint's import leaves the image pipeline's guard as it was"


def test_nobody_else_gets_a_certificate(app, client, published):
    awarded = set(published["awards"])
    entry = next(e for e in published["entries"] if e.id in awarded)
    other = next(e for e in published["entries"] if e.id not in awarded)
    log_in(client, other.author.email)
    mine = client.get("/my/entries").get_data(as_text=True)
    assert "certificate.pdf" not in mine, "no award, no certificate"
    assert client.get(f"/my/entries/{other.id}/certificate.pdf").status_code == 404
    assert client.get(f"/my/entries/{entry.id}/certificate.pdf").status_code == 403, "another entrant's award"
    stranger = app.test_client()
    make_user("nosy@example.org")
    log_in(stranger, "nosy@example.org")
    assert stranger.get(f"/my/entries/{entry.id}/certificate.pdf").status_code == 403
    assert app.test_client().get(f"/my/entries/{entry.id}/certificate.pdf").status_code in (302, 401)
