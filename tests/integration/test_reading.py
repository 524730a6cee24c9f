"""A site older residents can read: a text size the visitor chooses, kept like their language, and the footer's
filing numbers."""
from __future__ import annotations

from tests.helpers import log_in, log_out


def html_of(client, url: str = "/") -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_text_size_switch_is_on_every_page_and_kept(client, citizen):
    assert '<html lang="zh-Hans">' in html_of(client)  # the standard size needs no class
    page = html_of(client, "/calls")
    assert 'href="/text-size/larger?next=/calls"' in page and 'aria-current="true">标准</a>' in page
    response = client.get("/text-size/larger?next=/calls")
    assert response.status_code == 302 and response.headers["Location"] == "/calls"
    assert 'class="text-larger"' in html_of(client, "/calls")
    log_in(client, citizen.email)  # a new session keeps the visitor's choices
    assert 'class="text-larger"' in html_of(client)
    log_out(client)
    assert 'class="text-larger"' in html_of(client)
    client.get("/lang/en")
    page = html_of(client)
    assert '<html lang="en" class="text-larger">' in page and 'aria-current="true">Larger</a>' in page


def test_an_unknown_size_or_a_foreign_next_changes_nothing(client):
    assert client.get("/text-size/huge").status_code == 404
    assert '<html lang="zh-Hans">' in html_of(client)
    response = client.get("/text-size/large?next=https://evil.example.org/")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_footer_shows_the_filing_numbers_when_set(app_factory):
    plain = app_factory().test_client()
    assert "beian.miit.gov.cn" not in html_of(plain)
    app = app_factory(ICP_FILING="沪ICP备12345678号", GOVERNMENT_SITE_ID="3100000001")
    with app.app_context():
        page = html_of(app.test_client())
    assert '<a href="https://beian.miit.gov.cn/" rel="noopener">沪ICP备12345678号</a>' in page
    assert "政府网站标识码：3100000001" in page
