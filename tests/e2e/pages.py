"""What the browser tests do to pages alike: load lazy images, read and fill dates in Shanghai time, read ids from
addresses, wait for the status line, and find the vendored axe-core."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def load_images(page) -> None:
    """Load every image, lazy ones too, as the browser does before it prints (and a full-page screenshot needs)."""
    page.evaluate("""async () => {
        for (const img of document.images) img.loading = 'eager';
        await Promise.all([...document.images].map(img => img.complete ? null
            : new Promise(done => { img.onload = img.onerror = done; })));
    }""")


def local(moment: datetime) -> str:
    """A moment as a datetime-local field takes it, in Shanghai time."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def id_in(url: str, pattern: str) -> int:
    match = re.search(pattern, url)
    assert match, f"no {pattern} in {url}"
    return int(match.group(1))


def status_says(page, text: str) -> None:
    expect(page.get_by_role("status")).to_contain_text(text)
