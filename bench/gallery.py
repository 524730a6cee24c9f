"""Benchmark: the public gallery and entry pages of a call with 10,000 approved entries, against the same
templates rendered from data already in memory; and the number of SQL queries a page takes, which must not
grow with the page number or the page size. The gallery pages by a seek: its page N is the page after the entry
that ends page N - 1."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402

import flask_migrate  # noqa: E402
from flask import render_template, request, url_for  # noqa: E402
from sqlalchemy import event, insert, select  # noqa: E402
from sqlalchemy.orm import joinedload, selectinload  # noqa: E402

from contest import create_app  # noqa: E402
from contest.extensions import db  # noqa: E402
from contest.models import (  # noqa: E402
    Call,
    CallKind,
    Channel,
    Department,
    DepartmentKind,
    Entry,
    EntryImage,
    EntryStatus,
    Image,
    ImageFile,
    ParticipantGroup,
    User,
)
from contest.models.types import utcnow  # noqa: E402
from contest.services.counts import recount  # noqa: E402
from contest.services.issues import provenance  # noqa: E402
from contest.services.search import FIRST, LAST, Choices, Cursor, EntryPage, Filters  # noqa: E402

ENTRIES = 10_000
AUTHORS = 500  # each author holds ENTRIES // AUTHORS slots of the call
TIMED = 100  # timed requests per route, after WARM_UPS untimed ones
WARM_UPS = 5
TIMING_PER_PAGE = 24
FAR_PAGE = 400
IN_MEMORY_SAMPLES = 8  # gallery pages (and entries) held in memory for the baseline, rendered in turn
TARGET_RATIO = 3.0
# Rendition sizes of a 4000 x 3000 upload, as contest.images derives them.
RENDITION_SIZES = {"original": (4000, 3000), "zoom": (2400, 1800), "page": (1200, 900), "gallery": (400, 300)}
RENDITION_BYTES = {"original": 2_400_000, "zoom": 900_000, "page": 260_000, "gallery": 38_000}


# Filling the call --------------------------------------------------------------------------------

def fill() -> tuple[int, list[int]]:
    """One published, open call with ENTRIES approved entries, each with one image of four stored files.

    Rows are written in bulk with explicit ids, not through the submission service or the image pipeline:
    the pages only link to /media/..., so the files need not exist.
    """
    now = utcnow()
    department = Department(name="上海市规划和自然资源局", kind=DepartmentKind.AGENCY, name_en="Planning Bureau")
    db.session.add(department)
    db.session.flush()
    opened = now - timedelta(days=1)
    call = Call(kind=CallKind.DESIGN, title="道路栏杆请您绘", department=department,
                opens_at=opened, closes_at=now + timedelta(days=30), published_at=opened,
                summary="为城市道路栏杆设计新图案。", brief="## 要求\n\n请设计。",
                licence_text="作品以 CC BY 4.0 许可发布。", originality_text="本人原创。",
                image_formats=["JPEG", "PNG"], images_min=1, images_max=3, image_max_mb=5,
                entries_per_person=ENTRIES // AUTHORS)
    db.session.add(call)
    db.session.flush()

    groups = list(ParticipantGroup)
    db.session.execute(insert(User), [
        {"id": n + 1, "email": f"entrant{n + 1}@example.org", "password_hash": "bench-not-a-real-hash",
         "display_name": f"参赛者 {n + 1}", "group": groups[n % len(groups)], "locale": "zh",
         "is_admin": False, "created_at": now, "email_confirmed_at": now}
        for n in range(AUTHORS)
    ])
    images, files, entries, pictures = [], [], [], []
    for i in range(ENTRIES):
        n = i + 1
        author_id = i % AUTHORS + 1
        portrait = i % 3 == 2
        images.append({"id": n, "format": "JPEG", "width": 3000 if portrait else 4000,
                       "height": 4000 if portrait else 3000, "byte_size": 3_100_000 + i % 997 * 1000,
                       "sha256": hashlib.sha256(b"bench-%d" % n).hexdigest(), "dhash": f"{n * 2654435761 % 2**64:016x}",
                       "uploaded_by_id": author_id, "created_at": now})
        for name, (w, h) in RENDITION_SIZES.items():
            files.append({"image_id": n, "name": name, "backend": "local", "key": f"images/bench/{n}-{name}.jpg",
                          "content_type": "image/jpeg", "byte_size": RENDITION_BYTES[name] + i % 251 * 100,
                          "width": h if portrait else w, "height": w if portrait else h})
        entries.append({"id": n, "call_id": call.id, "author_id": author_id, "slot": i // AUTHORS + 1,
                        "channel": Channel.WEB, "status": EntryStatus.APPROVED, "title": f"海派栏杆 第{n}号",
                        "description": "以石库门纹样为灵感，红色栏杆与绿化带相映。", "licence_accepted_at": now,
                        "created_at": now, "updated_at": now, "moderated_at": now, "rejection_reason": ""})
        pictures.append({"id": n, "entry_id": n, "image_id": n, "position": 0,
                         "alt_text": f"第{n}号设计图：红色栏杆", "is_scan": False})
    db.session.execute(insert(Image), images)
    db.session.execute(insert(ImageFile), files)
    db.session.execute(insert(Entry), entries)
    recount(db.session.connection(), [call.id])  # past the session: count them as its hook would
    db.session.execute(insert(EntryImage), pictures)
    db.session.commit()
    return call.id, [e["id"] for e in entries]


# The baseline: the same templates, from data already in memory ---------------------------------------

@dataclass
class InMemoryPage:
    """A page of the gallery as the template reads it (contest.services.search.EntryPage), and its number."""

    number: int
    page: EntryPage


def newest_first(entry_ids: list[int]) -> list[int]:
    return sorted(entry_ids, reverse=True)


def cursor_of(entry_ids: list[int], number: int, per_page: int = TIMING_PER_PAGE) -> Cursor:
    """The gallery pages by a seek: page `number` begins after the entry that ends the one before it."""
    return Cursor(after=newest_first(entry_ids)[(number - 1) * per_page - 1]) if number > 1 else Cursor()


@dataclass
class InMemory:
    call: Call | None = None
    total: int = 0
    pages: list[InMemoryPage] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    provenances: list = field(default_factory=list)  # what the entry page shows of meetings and merges


def sample_pages(count: int, last: int = FAR_PAGE) -> list[int]:
    return [1 + round(k * (last - 1) / (count - 1)) for k in range(count)]


def sample_entry_ids(entry_ids: list[int], count: int) -> list[int]:
    return [entry_ids[round(k * (len(entry_ids) - 1) / (count - 1))] for k in range(count)]


def load_in_memory(memory: InMemory, call_id: int, entry_ids: list[int]) -> None:
    """Everything the two templates read, loaded eagerly once; the objects are detached when the app context
    ends, so a lazy load during a baseline render would fail loudly instead of querying."""
    call = db.session.get(Call, call_id)
    approved = (select(Entry).where(Entry.call_id == call_id, Entry.status == EntryStatus.APPROVED)
                .options(selectinload(Entry.pictures).joinedload(EntryImage.image).selectinload(Image.files),
                         selectinload(Entry.author))
                .order_by(Entry.id.desc()))
    memory.call = call
    memory.total = len(entry_ids)
    for number in sample_pages(IN_MEMORY_SAMPLES):
        items = list(db.session.scalars(approved.limit(TIMING_PER_PAGE).offset((number - 1) * TIMING_PER_PAGE)))
        more = number * TIMING_PER_PAGE < memory.total
        memory.pages.append(InMemoryPage(number, EntryPage(
            items, Cursor(after=items[-1].id) if more else None, Cursor(before=items[0].id) if number > 1 else None,
            memory.total, narrowed=False, capped=False, words=[])))
    memory.entries = list(db.session.scalars(
        select(Entry).where(Entry.id.in_(sample_entry_ids(entry_ids, IN_MEMORY_SAMPLES)))
        .options(selectinload(Entry.pictures).joinedload(EntryImage.image).selectinload(Image.files),
                 joinedload(Entry.call), joinedload(Entry.author), joinedload(Entry.topic), joinedload(Entry.place))
        .order_by(Entry.id)
    ).unique())
    memory.provenances = [provenance(entry) for entry in memory.entries]
    db.session.expunge_all()


def add_baseline_routes(app, memory: InMemory) -> None:
    def gallery_in_memory():
        shown = memory.pages[request.args.get("i", 0, type=int) % len(memory.pages)]

        def page_url(cursor: Cursor) -> str:
            return url_for("public.gallery", call_id=memory.call.id, **cursor.as_args())

        return render_template("calls/gallery.html", call=memory.call, page=shown.page, per_page=TIMING_PER_PAGE,
                               page_url=page_url, first=FIRST, last=LAST, query="", filters=Filters(),
                               choices=Choices([], [], [], [], [Channel.WEB]))  # what the real page finds

    def entry_in_memory():
        k = request.args.get("i", 0, type=int) % len(memory.entries)
        entry = memory.entries[k]
        return render_template("calls/entry.html", entry=entry, call=entry.call, staff=False,
                               provenance=memory.provenances[k])

    app.add_url_rule("/_bench/gallery", "bench_gallery", gallery_in_memory)
    app.add_url_rule("/_bench/entry", "bench_entry", entry_in_memory)


# Measuring -----------------------------------------------------------------------------------------------

TRANSACTION_CONTROL = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


class QueryLog:
    """Every query the engine sends while switched on, with its time (BEGIN, COMMIT and the like are no query)."""

    def __init__(self, engine) -> None:
        self.engine, self.on = engine, False
        self.statements: list[tuple[str, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def close(self) -> None:
        """Off the engine, so that the timed requests carry no listener."""
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        if self.on and not TRANSACTION_CONTROL.match(statement.lstrip()):
            self.statements.append((" ".join(statement.split()), time.perf_counter() - started))

    def during(self, client, url: str) -> list[tuple[str, float]]:
        self.statements, self.on = [], True
        try:
            response = client.get(url)
        finally:
            self.on = False
        assert response.status_code == 200, (url, response.status_code)
        return self.statements


def shorten(statement: str, width: int = 100) -> str:
    statement = re.sub(r"SELECT .*? FROM", "SELECT … FROM", statement, count=1)
    return statement if len(statement) <= width else statement[: width - 1] + "…"


def main_content(html: str) -> str:
    match = re.search(r"<main\b.*?</main>", html, re.S)
    assert match, "no <main> in the page"
    return match.group(0)


def timed_get(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def compare(client, real_urls: list[str], memory_urls: list[str]) -> tuple[float, float]:
    """Median seconds of the real page and of the in-memory render, their requests interleaved."""
    for k in range(WARM_UPS):
        client.get(real_urls[k % len(real_urls)])
        client.get(memory_urls[k % len(memory_urls)])
    real, memory = [], []
    for k in range(TIMED):
        real.append(timed_get(client, real_urls[k % len(real_urls)]))
        memory.append(timed_get(client, memory_urls[k % len(memory_urls)]))
    return statistics.median(real), statistics.median(memory)


def run() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
            "SECRET_KEY": "bench-secret",
            "TESTING": True,
            "UPLOAD_DIR": str(Path(folder) / "uploads"),
            "MAIL_BACKEND": "log",
        })
        memory = InMemory()
        add_baseline_routes(app, memory)  # before the first request, as Flask requires
        started = time.perf_counter()
        with app.app_context():
            flask_migrate.upgrade()
            migrated = time.perf_counter() - started
            call_id, entry_ids = fill()
            filled = time.perf_counter() - started - migrated
            load_in_memory(memory, call_id, entry_ids)
            log = QueryLog(db.engine)
        client = app.test_client()

        def gallery(page: int, per_page: int = TIMING_PER_PAGE) -> str:
            after = cursor_of(entry_ids, page, per_page).after
            return f"/calls/{call_id}/entries?per_page={per_page}" + (f"&after={after}" if after else "")

        # The baseline must show what the real page shows, and ask the database nothing.
        same_html = all(
            main_content(client.get(gallery(p.number)).get_data(as_text=True))
            == main_content(client.get(f"/_bench/gallery?i={k}").get_data(as_text=True))
            for k, p in enumerate(memory.pages)
        ) and all(
            main_content(client.get(f"/entries/{e.id}").get_data(as_text=True))
            == main_content(client.get(f"/_bench/entry?i={k}").get_data(as_text=True))
            for k, e in enumerate(memory.entries)
        )
        shown = len(re.findall(r'class="entry-card"', client.get(gallery(FAR_PAGE)).get_data(as_text=True)))
        assert shown == TIMING_PER_PAGE, f"page {FAR_PAGE} shows {shown} entries"

        traces = {
            "page_1_per_24": log.during(client, gallery(1)),
            f"page_{FAR_PAGE}_per_24": log.during(client, gallery(FAR_PAGE)),
            "page_1_per_12": log.during(client, gallery(1, 12)),
            "page_1_per_48": log.during(client, gallery(1, 48)),
            "entry": log.during(client, f"/entries/{entry_ids[len(entry_ids) // 2]}"),
            "entry_first": log.during(client, f"/entries/{entry_ids[0]}"),
            "baseline_gallery": log.during(client, "/_bench/gallery"),
            "baseline_entry": log.during(client, "/_bench/entry"),
        }
        log.close()

        timing_pages = [gallery(p) for p in sample_pages(TIMED)]
        page_s, page_memory_s = compare(client, timing_pages,
                                        [f"/_bench/gallery?i={k}" for k in range(len(memory.pages))])
        timing_entries = [f"/entries/{i}" for i in sample_entry_ids(entry_ids, TIMED)]
        entry_s, entry_memory_s = compare(client, timing_entries,
                                          [f"/_bench/entry?i={k}" for k in range(len(memory.entries))])
        first_s, _ = compare(client, [gallery(1)], ["/_bench/gallery?i=0"])
        far_s, _ = compare(client, [gallery(FAR_PAGE)], [f"/_bench/gallery?i={len(memory.pages) - 1}"])

    counts = {name: len(trace) for name, trace in traces.items()}
    gallery_counts = [counts[k] for k in ("page_1_per_24", f"page_{FAR_PAGE}_per_24", "page_1_per_12",
                                          "page_1_per_48")]
    return {
        "migrate_s": migrated, "fill_s": filled, "same_html": same_html, "traces": traces, "counts": counts,
        "queries_constant": len(set(gallery_counts)) == 1,
        "page_s": page_s, "page_memory_s": page_memory_s, "entry_s": entry_s, "entry_memory_s": entry_memory_s,
        "first_page_s": first_s, "far_page_s": far_s,
    }


def report(figures: dict) -> None:
    page_ratio = figures["page_s"] / figures["page_memory_s"]
    entry_ratio = figures["entry_s"] / figures["entry_memory_s"]
    counts = figures["counts"]
    print(f"gallery: one call with {ENTRIES:,} approved entries by {AUTHORS} authors, one image (4 stored files) "
          f"each; SQLite; migrated in {figures['migrate_s']:.1f} s, filled in {figures['fill_s']:.1f} s")
    print(f"median of {TIMED} requests per route through the test client after {WARM_UPS} warm-ups, "
          f"real and in-memory requests interleaved; gallery pages 1..{FAR_PAGE} at {TIMING_PER_PAGE} per page")
    print(f"{'':34}{'real page':>12}{'in memory':>12}{'ratio':>8}{'target':>8}")
    for label, real, mem in (("gallery page (median)", figures["page_s"], figures["page_memory_s"]),
                             ("entry page (median)", figures["entry_s"], figures["entry_memory_s"])):
        print(f"{label:34}{real * 1000:>9.2f} ms{mem * 1000:>9.2f} ms{real / mem:>8.2f}{TARGET_RATIO:>7.1f}x")
    print(f"{'gallery page 1 only':34}{figures['first_page_s'] * 1000:>9.2f} ms")
    print(f"{f'gallery page {FAR_PAGE} only':34}{figures['far_page_s'] * 1000:>9.2f} ms")
    print("in-memory render shows the same <main> as the real page: " + ("yes" if figures["same_html"] else "NO"))
    print(f"SQL queries per request{'':9}count   time in the database (transaction control not counted)")
    for name, count in counts.items():
        print(f"  {name:26}{count:>7}{sum(s for _, s in figures['traces'][name]) * 1000:>9.2f} ms")
    for name in (f"page_{FAR_PAGE}_per_24", "entry"):
        print(f"queries of {name.replace('_', ' ')}:")
        for statement, seconds in figures["traces"][name]:
            print(f"  {seconds * 1000:7.2f} ms  {shorten(statement)}")
    met = page_ratio <= TARGET_RATIO and entry_ratio <= TARGET_RATIO and figures["queries_constant"]
    print("queries per gallery page constant: " + ("yes" if figures["queries_constant"] else "NO"))
    print("targets met" if met else "TARGETS NOT MET")
    print(json.dumps({
        "bench": "gallery",
        "page_ratio": round(page_ratio, 2),
        "entry_ratio": round(entry_ratio, 2),
        "queries_constant": figures["queries_constant"],
        "gallery_ms": round(figures["page_s"] * 1000, 2),
        "gallery_baseline_ms": round(figures["page_memory_s"] * 1000, 2),
        "entry_ms": round(figures["entry_s"] * 1000, 2),
        "entry_baseline_ms": round(figures["entry_memory_s"] * 1000, 2),
        "gallery_page_1_ms": round(figures["first_page_s"] * 1000, 2),
        f"gallery_page_{FAR_PAGE}_ms": round(figures["far_page_s"] * 1000, 2),
        "queries": counts,
        "same_html": figures["same_html"],
        "fill_s": round(figures["fill_s"], 1),
        "target_ratio": TARGET_RATIO,
        "targets_met": met,
    }, ensure_ascii=False))


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__).parse_args()
    report(run())
