"""The exports and printed documents as a phone downloads them: the organiser takes the results as .xlsx and the
notice as PDF from the results console, the entrant their certificate from "my entries"; each file is what the
server made (a workbook openpyxl opens, a PDF whose text holds the prize). Screenshots at phone width in
test-artifacts/documents/, in Chinese and in English, with axe finding nothing serious on the pages."""
import io
from pathlib import Path

import openpyxl
import pytest
from pdfminer.high_level import extract_text

from tests.e2e.pages import AXE
from tests.e2e.test_entry_in_browser import log_in
from tests.e2e.test_large_text_on_a_phone import RUN_AXE
from tests.helpers import zh
from tests.integration.test_documents import published  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_pass_only]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"


def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                  has_touch=True, accept_downloads=True)
    context.add_init_script(path=str(AXE))
    return context


def downloaded(page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_bytes()


def test_organiser_and_entrant_download_their_files_on_a_phone(live_server, browser, published,  # noqa: F811
                                                               transport_organiser):
    call = published["call"]
    entry_id, award = next(iter(published["awards"].items()))
    entry = next(e for e in published["entries"] if e.id == entry_id)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for who, path, links in ((transport_organiser.email, f"/console/calls/{call.id}/results",
                              ["Download the results (Excel)", "The results notice to print (PDF)"]),
                             (entry.author.email, "/my/entries", ["Download the certificate (PDF)"])):
        context = phone(browser)
        page = context.new_page()
        try:
            log_in(page, live_server, who)
            for language in ("zh", "en"):
                page.goto(f"{live_server}/lang/{language}")
                assert page.goto(live_server + path).status == 200
                assert page.evaluate(RUN_AXE) == [], (path, language)
                page.screenshot(path=str(ARTIFACTS / f"{path.strip('/').replace('/', '-')}-{language}.png"),
                                full_page=True)
                for name in links:
                    label = zh(name) if language == "zh" else name
                    body = downloaded(page, page.get_by_role("link", name=label))
                    if "Excel" in name:
                        book = openpyxl.load_workbook(io.BytesIO(body))
                        assert book.active.max_row == len(published["entries"]) + 1
                    else:
                        assert award.prize.name in extract_text(io.BytesIO(body))
        finally:
            context.close()
