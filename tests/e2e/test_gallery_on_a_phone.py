"""The gallery on a phone: every picture says its size before it loads (nothing moves when it arrives), the
first rows load at once and the first picture first, the rest only when scrolled to, and a phone gets the
400 px size whatever its pixel density."""
import pytest

from tests.helpers import approved_entries, make_call

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}

PICTURES = """() => [...document.querySelectorAll('.gallery img')].map(img => ({
  src: img.getAttribute('src'), srcset: img.getAttribute('srcset'), sizes: img.getAttribute('sizes'),
  width: img.getAttribute('width'), height: img.getAttribute('height'), loading: img.getAttribute('loading'),
  priority: img.getAttribute('fetchpriority'), top: img.getBoundingClientRect().top,
  shownWidth: img.clientWidth, shownHeight: img.clientHeight,
}))"""

# Read through DevTools, so the page's CSP (no inline script) does not apply.
LAYOUT_SHIFT = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => { for (const e of list.getEntries()) total += e.value; })
    .observe({type: 'layout-shift', buffered: true});
  setTimeout(() => resolve(total), 300);
})"""


def test_the_gallery_lays_out_before_its_pictures_load_and_loads_only_what_is_seen(app, live_server, browser,
                                                                                    transport_commission):
    call = make_call(transport_commission)
    approved_entries(call, 14)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url) if "/media/" in request.url else None)
    page.goto(f"{live_server}/calls/{call.id}/entries")
    page.wait_for_load_state("networkidle")

    pictures = page.evaluate(PICTURES)
    fold = page.evaluate("innerHeight")
    assert len(pictures) == 14
    for picture in pictures:
        assert picture["src"].endswith("/gallery")
        assert [c.rsplit(" ", 1)[1] for c in picture["srcset"].split(", ")] == ["400w", "800w"]  # each width once
        assert picture["sizes"]
        # 800 x 600 uploads: the 400 px size is 400 x 300, and the card keeps that shape.
        assert (picture["width"], picture["height"]) == ("400", "300")
        assert abs(picture["shownWidth"] * 3 / 4 - picture["shownHeight"]) <= 1
    # Two columns on a phone; the first two rows are loaded at once, the first picture before the others.
    assert pictures[0]["top"] == pictures[1]["top"] < pictures[2]["top"] < fold
    assert [p["loading"] for p in pictures[:4]] == [None] * 4
    assert [p["priority"] for p in pictures[:4]] == ["high", None, None, None]
    below = [p for p in pictures if p["top"] >= fold]
    assert below and all(p["loading"] == "lazy" for p in below)
    assert all(p["loading"] == "lazy" for p in pictures[4:])
    # The phone is given the 400 px size, though its density would pick a larger one from the srcset.
    assert requested and all(url.endswith("/gallery") for url in requested)
    assert page.evaluate("document.querySelector('.gallery img').currentSrc").endswith("/gallery")

    # Scrolled to the end, the lazy pictures load and nothing on the page has moved.
    for y in range(0, 4000, 400):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(50)
    page.wait_for_function("[...document.querySelectorAll('.gallery img')].every(i => i.complete && i.naturalWidth)")
    assert page.evaluate(LAYOUT_SHIFT) < 0.001
    assert len(set(requested)) == 14
    context.close()
