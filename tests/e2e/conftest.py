"""A live server in a thread and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def pytest_collection_modifyitems(config, items):
    """Tests marked postgresql need a database server (to cut it mid-run): the SQLite pass deselects them, and
    says so, rather than skip them (the PostgreSQL pass runs them)."""
    if config.getoption("--db") != "sqlite":
        return
    server_only = [item for item in items if item.get_closest_marker("postgresql")]
    if server_only:
        items[:] = [item for item in items if item not in server_only]
        config.hook.pytest_deselected(items=server_only)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"deselected {len(server_only)} test(s) marked postgresql: they cut a database "
                                "server mid-run, which SQLite does not have; the PostgreSQL pass runs them")


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed for the browser tests (scripts/test installs it)"
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
