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


RAILING_CALL_TEXTS = {  # label of the new call's Chinese field -> what the story types there
    "Title in Chinese": "Draw the city's road railings",
    "Summary in Chinese": "New patterns for the railings down the middle of roads.",
    "Brief in Chinese": "## What we ask\n\nA railing pattern that says Shanghai.",
    "Themes in Chinese": "Haipai culture, road safety",
    "Licence terms the entrant accepts, in Chinese": "Entries are published under CC BY 4.0.",
    "Originality declaration in Chinese": "The design is my own work.",
    "Prizes in Chinese": "First prize | 1 | 20,000 yuan\nSecond prize | 1 | 10,000 yuan",
}


def write_railing_call_texts(organiser) -> None:
    """The stories' design call: its texts typed into the new call's Chinese fields (the English ones left empty)."""
    for label, text in RAILING_CALL_TEXTS.items():
        organiser.get_by_label(label, exact=True).fill(text)


def entry_number(page, title: str) -> str:
    """An entry's number as a citizen reads it beside its title in the results' ranking ("No. 12")."""
    row = page.locator("tr", has_text=title).first
    match = re.search(r"No\. (\d+)", row.inner_text())
    assert match, f"no number beside {title} in the ranking"
    return match.group(1)
