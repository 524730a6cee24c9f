"""Benchmark: the gallery of a call with 200 entries, opened on a slow phone, against the same page with its
images off.

A SQLite database in a temporary folder is made by the migrations and filled with one open call and 200
approved entries, each sent through the submission service with a photo-like 2400 x 1800 JPEG drawn by
Pillow, so that the image pipeline stores every derived size (2400, 1200, 400 px) as the site would. The
site runs under gunicorn as in production. Debian's Chromium, driven by Playwright, opens the gallery's first
page as a phone: viewport 390 x 844 at device scale factor 3, mobile, touch; through DevTools the CPU is
slowed 4x and the network emulated as a slow 4G (150 ms latency, 1.6 Mbps down, 750 kbps up). Each visit is
in a new browser context (an empty cache).

For each visit it reads the Largest Contentful Paint (a PerformanceObserver, buffered), the layout shift,
and the bytes of every response (DevTools' encodedDataLength, headers included): those of HTML, CSS and
scripts requested before the first entry image, and the totals. The baseline is the same visit with the
entry images blocked (DevTools' setBlockedURLs on /media/), so the ratio of the two LCPs is what the images
cost. Visits alternate between the two, RUNS of each, and the medians are reported. Each visit then goes on
to the gallery's second page, whose CSS should come from the browser's cache (0 KB).

Prints both, the ratio and the targets (LCP <= 2.5 s, <= 300 KB of HTML, CSS and scripts before any image);
ends with one line of JSON: {"bench": "phone", "lcp_ms": ..., "kb_before_images": ..., ...}.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from datetime import timedelta  # noqa: E402
from urllib.request import urlopen  # noqa: E402

ENTRIES = 200
PHOTO_SIZE = (2400, 1800)
RUNS = 3
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/156.0.0.0 Mobile Safari/537.36",
}
CPU_SLOWDOWN = 4
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TEXT_TYPES = {"Document", "Stylesheet", "Script", "Font"}  # HTML, CSS, scripts (and fonts, were there any)
ENTRY_IMAGE = re.compile(r"/media/\d+/(\w+)$")
TARGET_LCP_MS = 2500
TARGET_KB = 300
VENV_BIN = Path(sys.executable).parent


# The call ----------------------------------------------------------------------------------------------

def photo(seed: int) -> bytes:
    """A photo-like JPEG: a tinted gradient, discs, a railing and grain, drawn at half size and enlarged (the
    grain then compresses like a phone photo's: about 200 KB at 1200 px)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    half = (PHOTO_SIZE[0] // 2, PHOTO_SIZE[1] // 2)
    gradient = Image.linear_gradient("L").resize(half).convert("RGB")
    im = Image.blend(gradient, Image.new("RGB", half, tuple(rng.randrange(60, 230) for _ in range(3))), 0.6)
    draw = ImageDraw.Draw(im)
    for _ in range(12):
        x, y, r = rng.randrange(half[0]), rng.randrange(half[1]), rng.randrange(20, 160)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randrange(256) for _ in range(3)))
    step = rng.randrange(15, 40)
    for x in range(0, half[0], step):
        draw.rectangle([x, half[1] // 2, x + step // 4, half[1]], fill=(rng.randrange(100, 256), 30, 30))
    im = Image.blend(im, Image.effect_noise(half, 48).convert("RGB"), 0.14).resize(PHOTO_SIZE,
                                                                                   Image.Resampling.BILINEAR)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def fill(database_url: str, uploads: str) -> int:
    """Migrate, then one open call with ENTRIES approved entries by as many citizens, each with one photo
    sent through the submission service (so through the image pipeline and the storage). The call's id."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from contest import create_app
    from contest.extensions import db
    from contest.models import Call, CallKind, Department, DepartmentKind, EntryStatus, ParticipantGroup, User
    from contest.models.types import utcnow
    from contest.services.entries import EntryData, Upload, submit_entry

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "UPLOAD_DIR": uploads,
                      "MAIL_BACKEND": "log", "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"})
    logging.disable(logging.INFO)  # the migrations' lines, and a "mail sent" line per entry
    with app.app_context():
        upgrade()
        now = utcnow()
        department = Department(name="上海市交通委员会", kind=DepartmentKind.AGENCY, name_en="Transport Commission")
        opened = now - timedelta(days=2)
        call = Call(kind=CallKind.DESIGN, title="道路栏杆请您绘", department=department, opens_at=opened,
                    closes_at=now + timedelta(days=30), published_at=opened, summary="为城市道路栏杆设计新图案。",
                    brief="## 要求\n\n请设计。", licence_text="作品以 CC BY 4.0 许可发布。",
                    originality_text="本人原创。", image_formats=["JPEG", "PNG"], images_min=1, images_max=3,
                    image_max_mb=5, entries_per_person=1)
        db.session.add(call)
        db.session.flush()
        db.session.execute(insert(User), [
            {"email": f"entrant{n}@example.org", "password_hash": "bench-not-a-real-hash",
             "display_name": f"参赛者{n}", "group": ParticipantGroup.CITIZEN, "locale": "zh", "is_admin": False,
             "created_at": opened, "email_confirmed_at": opened} for n in range(ENTRIES)])
        authors = db.session.scalars(db.select(User).order_by(User.id)).all()
        db.session.commit()
        # The photos are drawn in other processes while this one submits.
        with ProcessPoolExecutor(max_workers=2) as pool:
            for n, (author, data) in enumerate(zip(authors, pool.map(photo, range(ENTRIES)), strict=True)):
                with app.test_request_context():
                    entry = submit_entry(author, call, EntryData(title=f"海派栏杆 第{n + 1}号"),
                                         [Upload(data, f"第{n + 1}号设计图：红色栏杆与绿化带")], accepted_terms=True)
                entry.status = EntryStatus.APPROVED
                db.session.commit()
        call_id = call.id
        db.engine.dispose()
    logging.disable(logging.NOTSET)
    return call_id


# The server --------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(database_url: str, uploads: str, folder: str, port: int) -> subprocess.Popen:
    log = Path(folder) / "gunicorn.log"
    env = dict(os.environ, CONTEST_ENV="production", CONTEST_SECRET_KEY="bench-" + "x" * 40,
               CONTEST_DATABASE_URL=database_url, CONTEST_UPLOAD_DIR=uploads, CONTEST_MAIL_BACKEND="log",
               CONTEST_REDIS_URL="")
    command = [str(VENV_BIN / "gunicorn"), "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", "--error-logfile", str(log), "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn did not answer in 120 s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# A visit -----------------------------------------------------------------------------------------------

# Run through DevTools, so the page's CSP (no inline script) does not apply to it.
PAINT_FIGURES = """() => new Promise(resolve => {
  const figures = {lcp_ms: null, lcp_element: null, lcp_url: null, cls: 0};
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) figures.cls += e.value;
  }).observe({type: 'layout-shift', buffered: true});
  new PerformanceObserver(list => {
    const last = list.getEntries().at(-1);
    figures.lcp_ms = last.startTime;
    figures.lcp_element = last.element ? last.element.tagName.toLowerCase() : null;
    figures.lcp_url = last.url || null;
  }).observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => resolve(figures), 500);
})"""


def visit(browser, url: str, images: bool) -> dict:
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        requests: dict[str, dict] = {}

        def sent(event):
            requests.setdefault(event["requestId"], {"url": event["request"]["url"], "type": event.get("type"),
                                                     "at": event["timestamp"], "bytes": 0})

        def finished(event):
            if event["requestId"] in requests:
                requests[event["requestId"]]["bytes"] = event["encodedDataLength"]

        cdp.on("Network.requestWillBeSent", sent)
        cdp.on("Network.loadingFinished", finished)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", NETWORK)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        if not images:
            cdp.send("Network.setBlockedURLs", {"urls": ["*/media/*"]})
        started = time.monotonic()
        page.goto(url, wait_until="load", timeout=180_000)
        page.wait_for_load_state("networkidle", timeout=180_000)
        loaded_s = time.monotonic() - started
        figures = page.evaluate(PAINT_FIGURES)
        cold = list(requests.values())
        # On to the gallery's next page: its stylesheet has the same hashed name, so it comes from the cache.
        requests.clear()
        page.goto(url + "?page=2", wait_until="load", timeout=180_000)
        kb_static_next_page = sum(r["bytes"] for r in requests.values() if r["type"] != "Document"
                                  and r["type"] in TEXT_TYPES) / 1024
    finally:
        context.close()

    entry_images = [r for r in cold if ENTRY_IMAGE.search(r["url"])]
    first_image_at = min((r["at"] for r in entry_images), default=float("inf"))
    text = [r for r in cold if r["type"] in TEXT_TYPES]
    loaded_images = [r for r in entry_images if r["bytes"]]
    lcp_size = ENTRY_IMAGE.search(figures["lcp_url"] or "")
    return {
        **figures,
        "lcp_size": lcp_size.group(1) if lcp_size else None,
        "kb_before_images": sum(r["bytes"] for r in text if r["at"] <= first_image_at) / 1024,
        "kb_text": sum(r["bytes"] for r in text) / 1024,
        "kb_images": sum(r["bytes"] for r in loaded_images) / 1024,
        "kb_total": sum(r["bytes"] for r in cold) / 1024,
        "kb_static_next_page": kb_static_next_page,
        "images_loaded": len(loaded_images),
        "image_sizes": sorted({ENTRY_IMAGE.search(r["url"]).group(1) for r in loaded_images}),
        "text_files": sorted(re.sub(r"^https?://[^/]+", "", r["url"]) for r in text),
        "loaded_s": loaded_s,
    }


def run() -> dict:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        uploads = str(Path(folder) / "uploads")
        started = time.perf_counter()
        call_id = fill(database_url, uploads)
        filled_s = time.perf_counter() - started
        port = free_port()
        server = start_gunicorn(database_url, uploads, folder, port)
        url = f"http://127.0.0.1:{port}/calls/{call_id}/entries"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                try:
                    visit(browser, url, images=True)  # warms the server up; not counted
                    visits = {True: [], False: []}
                    load_before = os.getloadavg()[0]
                    for _ in range(RUNS):
                        for images in (True, False):
                            visits[images].append(visit(browser, url, images))
                    load_after = os.getloadavg()[0]
                finally:
                    browser.close()
        finally:
            stop(server)
    return {"filled_s": filled_s, "url": url, "with": visits[True], "without": visits[False],
            "load": (load_before, load_after)}


# The report --------------------------------------------------------------------------------------------

def median(visits: list[dict], key: str) -> float:
    return statistics.median(v[key] for v in visits)


def report(figures: dict) -> None:
    with_images, without = figures["with"], figures["without"]
    lcp, lcp_off = median(with_images, "lcp_ms"), median(without, "lcp_ms")
    kb_before, kb_before_off = median(with_images, "kb_before_images"), median(without, "kb_before_images")
    cls = max(v["cls"] for v in with_images + without)
    ratio = lcp / lcp_off
    print(f"phone: the gallery's first page of a call with {ENTRIES} approved entries, one "
          f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} photo each (stored sizes 2400/1200/400); SQLite, gunicorn; "
          f"filled in {figures['filled_s']:.0f} s")
    print(f"Chromium as a phone: {PHONE['viewport']['width']}x{PHONE['viewport']['height']} at "
          f"{PHONE['device_scale_factor']}x, CPU slowed {CPU_SLOWDOWN}x, network {NETWORK['latency']} ms, "
          f"{NETWORK['downloadThroughput'] * 8 / 1e6:.1f} Mbps down, "
          f"{NETWORK['uploadThroughput'] * 8 / 1e3:.0f} kbps up; "
          f"median of {RUNS} cold visits each, alternating")
    # The CPU slowdown multiplies whatever else the machine is doing: say how busy it was.
    print(f"load average (1 min) before and after the visits: {figures['load'][0]:.1f}, {figures['load'][1]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'':40}{'images':>12}{'images off':>12}{'ratio':>8}{'target':>10}")
    print(f"{'Largest Contentful Paint':40}{lcp:>9.0f} ms{lcp_off:>9.0f} ms{ratio:>8.2f}{TARGET_LCP_MS:>7} ms")
    print(f"{'HTML, CSS, scripts before any image':40}{kb_before:>9.1f} KB{kb_before_off:>9.1f} KB"
          f"{'':8}{TARGET_KB:>7} KB")
    print(f"{'HTML, CSS, scripts in all':40}{median(with_images, 'kb_text'):>9.1f} KB"
          f"{median(without, 'kb_text'):>9.1f} KB")
    print(f"{'entry images':40}{median(with_images, 'kb_images'):>9.1f} KB{'':12}"
          f"  ({median(with_images, 'images_loaded'):.0f} loaded before the page went idle, sizes: "
          f"{', '.join(sorted({s for v in with_images for s in v['image_sizes']}))})")
    print(f"{'all bytes':40}{median(with_images, 'kb_total'):>9.1f} KB{median(without, 'kb_total'):>9.1f} KB")
    print(f"{'load and network idle':40}{median(with_images, 'loaded_s'):>10.1f} s"
          f"{median(without, 'loaded_s'):>10.1f} s")
    print(f"{'CSS and scripts of the next page':40}{median(with_images, 'kb_static_next_page'):>9.1f} KB"
          f"{median(without, 'kb_static_next_page'):>9.1f} KB  (from the cache: hashed names, immutable)")
    print(f"layout shift (largest of all visits): {cls:.4f}")
    print("LCP element: " + "; ".join(sorted({f"{v['lcp_element']} {v['lcp_size'] or ''}".strip()
                                             for v in with_images})) + " (images off: "
          + "; ".join(sorted({v["lcp_element"] or "none" for v in without})) + ")")
    print("files of HTML, CSS and scripts: " + ", ".join(with_images[0]["text_files"]))
    print("each visit, LCP in ms (images / images off): "
          + ", ".join(f"{a['lcp_ms']:.0f}/{b['lcp_ms']:.0f}" for a, b in zip(with_images, without, strict=True)))
    met = lcp <= TARGET_LCP_MS and kb_before <= TARGET_KB
    print("targets met" if met else "TARGETS NOT MET")
    print(json.dumps({
        "bench": "phone",
        "lcp_ms": round(lcp),
        "kb_before_images": round(kb_before, 1),
        "lcp_images_off_ms": round(lcp_off),
        "lcp_ratio": round(ratio, 2),
        "kb_before_images_images_off": round(kb_before_off, 1),
        "kb_text": round(median(with_images, "kb_text"), 1),
        "kb_images": round(median(with_images, "kb_images"), 1),
        "kb_total": round(median(with_images, "kb_total"), 1),
        "kb_static_next_page": round(median(with_images, "kb_static_next_page"), 1),
        "images_loaded": median(with_images, "images_loaded"),
        "cls": round(cls, 4),
        "load_average": [round(x, 1) for x in figures["load"]],
        "lcp_runs_ms": [round(v["lcp_ms"]) for v in with_images],
        "lcp_images_off_runs_ms": [round(v["lcp_ms"]) for v in without],
        "target_lcp_ms": TARGET_LCP_MS,
        "target_kb": TARGET_KB,
        "targets_met": met,
    }, ensure_ascii=False))


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    report(run())
