"""Static files under names carrying a hash of their contents, kept by browsers for a year."""
import hashlib
import re

from contest.assets import hashed_name, hashed_names
from tests.conftest import ROOT

STATIC = ROOT / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def test_a_hashed_name_carries_the_first_eight_hex_digits_of_the_contents_before_the_suffix():
    digest = hashlib.sha256(b"body{}").hexdigest()[:8]
    assert hashed_name("css/site.css", b"body{}") == f"css/site.{digest}.css"
    assert hashed_name("vendor/chartjs/chart.umd.js", b"x").startswith("vendor/chartjs/chart.umd.")


def test_the_name_changes_when_the_contents_change_and_only_then(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body { color: black; }")
    (tmp_path / ".hidden").write_text("not served under a hashed name")
    before = hashed_names(tmp_path)
    assert list(before) == ["css/site.css"]
    assert hashed_names(tmp_path) == before
    (tmp_path / "css" / "site.css").write_text("body { color: red; }")
    after = hashed_names(tmp_path)
    assert after["css/site.css"] != before["css/site.css"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{8}\.css", after["css/site.css"])


def test_pages_link_hashed_names_served_with_an_immutable_cache(client):
    page = client.get("/").get_data(as_text=True)
    stylesheet = re.search(r'<link rel="stylesheet" href="(/static/css/site\.[0-9a-f]{8}\.css)">', page)
    assert stylesheet, "the stylesheet is linked under its hashed name"
    response = client.get(stylesheet.group(1))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.content_type.startswith("text/css")
    assert response.data == (STATIC / "css" / "site.css").read_bytes()
    assert re.search(r'href="/static/favicon\.[0-9a-f]{8}\.svg"', page)


def test_the_statistics_scripts_are_linked_hashed_and_no_other_page_loads_chart_js(client):
    statistics = client.get("/statistics").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', statistics)
    assert [re.sub(r"\.[0-9a-f]{8}\.js$", ".js", s) for s in scripts] == [
        "/static/vendor/chartjs/chart.umd.js", "/static/js/charts.js"]
    for script in scripts:
        assert client.get(script).headers["Cache-Control"] == IMMUTABLE
    for page in ("/", "/calls", "/from-idea-to-street"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert "<script" not in response.get_data(as_text=True)


def test_the_plain_name_still_works_with_a_short_cache(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_a_name_with_another_hash_is_not_found(client):
    assert client.get("/static/css/site.00000000.css").status_code == 404
    assert client.get("/static/../contest/config.py").status_code == 404


def test_debug_mode_links_plain_names_so_that_edits_show_at_once(app_factory):
    app = app_factory(DEBUG=True)
    page = app.test_client().get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/css/site.css">' in page
