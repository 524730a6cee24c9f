"""Error pages in both languages, with the right status codes."""
import pytest
from flask import abort

from tests.helpers import zh


@pytest.fixture
def failing_app(app_factory):
    app = app_factory(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.route("/_fail/<int:code>")
    def fail(code):
        if code == 500:
            raise RuntimeError("boom")
        abort(code)

    with app.app_context():
        yield app


@pytest.mark.parametrize("code,title", [(400, "Bad request"), (403, "Not allowed"), (404, "Page not found"),
                                        (413, "File too large"), (429, "Too many attempts"),
                                        (500, "Something went wrong")])
def test_error_pages_in_chinese_and_english(failing_app, code, title):
    client = failing_app.test_client()
    response = client.get(f"/_fail/{code}")
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert zh(title) in html
    client.get("/lang/en")
    response = client.get(f"/_fail/{code}")
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and title in html


def test_a_body_larger_than_the_limit_gets_413(app_factory):
    app = app_factory(MAX_UPLOAD_MB=1)
    client = app.test_client()
    response = client.post("/account/register", data={"email": "x" * (1536 * 1024)})
    assert response.status_code == 413
