"""A live server in a thread and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.servers import AppServer, free_port

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def pytest_collection_modifyitems(config, items):
    # Every test here drives a server in another thread or process, which sees only what was committed.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.real_commits)


def _whole_bodies(app):
    """The app with each response body read whole and its source closed before anything is sent. Werkzeug's
    development server leaves a response's file open when the browser drops the connection mid-response (a
    page left while its favicon is sent), which a test would meet as a ResourceWarning at some later moment."""
    def wsgi(environ, start_response):
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return [body]

    return wsgi


@pytest.fixture
def live_server(app):
    # Any free port, unless CONTEST_TEST_LIVE_PORT names one (for a machine where ports are shared out).
    server = make_server("127.0.0.1", int(os.environ.get("CONTEST_TEST_LIVE_PORT") or 0), _whole_bodies(app),
                         threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def app_clock(app):
    """The live server's clock (contest.models.types.utcnow), which the test moves on: days pass, the database
    is not touched."""
    from contest.models.types import utcnow

    class Clock:
        @staticmethod
        def now():
            return utcnow()

        @staticmethod
        def move(delta):
            app.config["TEST_CLOCK_OFFSET"] = (app.config.get("TEST_CLOCK_OFFSET") or timedelta(0)) + delta

    yield Clock()
    app.config["TEST_CLOCK_OFFSET"] = None


@pytest.fixture
def app_servers(tmp_path):
    """Start the site under gunicorn: `app_servers(env, "A", "B", options=(...))` starts them together, each on a
    free port, waits until every one answers, and returns them; whatever is still running is stopped at the end."""
    started: list[AppServer] = []

    def start(env: dict, *names: str, options: tuple[str, ...] = (), ready_path: str = "/healthz",
              host: str = "127.0.0.1") -> list[AppServer]:
        servers = [AppServer(name, free_port(), env, tmp_path / f"gunicorn-{name}.log", options, ready_path, host)
                   for name in names]
        for server in servers:
            started.append(server)
            server.start()
        for server in servers:  # started together, waited for together
            server.wait_until_up()
        return servers

    yield start
    for server in started:  # all asked at once, then waited for
        server.ask_to_stop()
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Debian's chromium-headless-shell: Chromium's own headless build (the same Blink and V8 as the `chromium`
    # package, without the browser's user interface), as Playwright's headless mode runs. It draws the same pages
    # for half the CPU: the browser was three quarters of the browser tests' time. CONTEST_TEST_CHROMIUM=chromium
    # runs them in the full browser instead.
    name = os.environ.get("CONTEST_TEST_CHROMIUM", "chromium-headless-shell")
    executable = shutil.which(name)
    assert executable, f"Debian's {name} is needed for the browser tests (scripts/test installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
