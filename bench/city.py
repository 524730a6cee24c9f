"""Benchmark: the pages of a city-size call under gunicorn on PostgreSQL, against the same pages of a call of
100 entries, in the same run.

A fresh PostgreSQL database (created and dropped by this script) is made by the migrations and filled in bulk
(many rows a statement, not the ORM row by row) with realistic Chinese ideas: an idea call of 160,000 approved
entries with a closed votes round of 500,000 votes from 50,000 citizens and published results, and a design
call of 5,000 entries (one image each) with an open pairwise round of 200,000 comparisons. The small calls have
100 entries and the same proportions of votes and comparisons. `--scale 0.1` divides every figure by ten. The
entries are indexed as `flask reindex-search` indexes them (words, MinHash bands, similar entries), in INDEXERS
processes: each call's words and bands as soon as its entries are in, while the rest loads, then the similar
entries from all the bands; the whole fill is timed against FILL_TARGET_S ("a few minutes at most").

The site (wsgi:app) is served by gunicorn; each page is asked for 5 times for each size (median), the first
answer also giving its size. Then, in the same run: the search of the idea call's gallery (one word, two
words, a word in no entry), the peak memory of the entries CSV export and of the call's archive
(bench/export_memory.py, in child processes), and votes per second into an open round with the city's votes
stored against the same votes after the vote table is emptied (TRUNCATE). The snapshot's time is its
computing and storing, as when the organisers first open the results (for the city call, larger than
RESULTS_INLINE_ENTRIES: the worker's pass, its computation asked by the clock's turn once the votes round closed,
then their request reading it); publishing's, the request's
(the entrants' mails are the worker's, timed apart). Prints the table and one line of JSON:
{"bench": "city", "worst_ratio": ..., "worst_page": ..., "largest_html_kb": ..., "search_ms": ...,
"vote_ratio": ..., "snapshot_s": ..., "csv_peak_mb": ..., ...}. The downloads of a call's whole data (the CSV
exports) count in worst_ratio by their time per row, and not in largest_html_kb (they are not pages).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from datetime import timedelta  # noqa: E402

import requests  # noqa: E402

from bench.votes import SQLALCHEMY_BASE, create_database, drop_database, free_port  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PASSWORD = "bench password 123"
REPEATS = 5
TIMEOUT_S = 120  # a page slower than this is reported as timed out
TARGET_RATIO = 3.0
SMALL = 100
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SEARCHES = [("search, one word", "停车"), ("search, two words", "适老化 电梯"), ("search, a word in no entry", "量子")]
SEARCH_TARGET_MS = 100
VOTE_ENTRIES = 200
VOTE_CLIENTS, VOTERS_EACH, VOTES_EACH = 8, 3, 40  # 960 votes a phase
VOTE_TARGET = 0.9
FILL_TARGET_S = 300  # building the city at full scale
# Downloads of a call's whole data grow with it by nature: they are held to constant memory (the peak RSS figures)
# and to a time per row within TARGET_RATIO of the small call's, not to the pages' 3x and 500 KB.
DOWNLOADS = {"entries CSV export": "ideas", "results CSV export": "ideas"}

DISTRICTS = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区", "宝山区", "嘉定区",
             "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区"]
STREETS = ["南京东路街道", "外滩街道", "天平路街道", "湖南路街道", "江宁路街道", "曹杨新村街道", "四川北路街道",
           "五角场街道", "莘庄镇", "友谊路街道", "新成路街道", "陆家嘴街道", "石化街道", "岳阳街道", "夏阳街道"]
SUBJECTS = ["小区停车难", "老旧小区加装电梯", "口袋公园建设", "适老化改造", "垃圾分类投放点", "非机动车停放",
            "社区食堂", "菜市场改造", "儿童游乐设施", "夜间照明", "人行道破损", "公交站台遮雨棚", "健身步道",
            "社区图书室", "噪音扰民", "绿化养护", "充电桩安装", "无障碍通道", "河道清洁", "共享单车乱停"]
WISHES = ["建议在小区周边增设临时停车位，错峰开放学校和单位的停车场。",
          "希望对楼道进行适老化改造，加装扶手和夜间感应灯，方便老人出行。",
          "空地长期闲置，建议改造成口袋公园，种些树，放几张长椅。",
          "建议增加垃圾分类投放点的开放时间，并安排志愿者指导。",
          "人行道砖块松动，下雨天容易溅水，希望尽快修补。",
          "希望在公交站台加装遮雨棚和座椅，方便候车的老人和孩子。",
          "建议在社区设立长者食堂，提供价格实惠的午餐。",
          "晚上路灯太暗，建议更换节能灯并增加照明点位。"]


def idea_text(rng: random.Random, n: int) -> tuple[str, str]:
    district, street, subject = rng.choice(DISTRICTS), rng.choice(STREETS), rng.choice(SUBJECTS)
    title = f"关于{district}{street}{subject}的建议（第{n}号）"
    description = "".join(rng.sample(WISHES, 2)) + f"我住在{district}{street}，这个问题已经存在很久了。"
    return title, description


# Filling the city -------------------------------------------------------------------------------------

def fill(url: str, folder: str, scale: float) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from contest import create_app
    from contest.database import insert_rows
    from contest.extensions import db
    from contest.models import (
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
        JobKind,
        ParticipantGroup,
        PublicMode,
        Round,
        RoundKind,
        User,
    )
    from contest.models.types import utcnow
    from contest.services.accounts import hash_password
    from contest.services.counts import recount
    from contest.services.results import jobs, publication, ranking

    rng = random.Random(18)
    app = create_app(app_config(url, folder))
    figures: dict = {}
    with app.app_context():
        upgrade()
        now = utcnow()
        started = time.perf_counter()
        city = Department(name="上海市", kind=DepartmentKind.AGENCY)
        db.session.add(city)
        db.session.flush()
        admin_id = db.session.scalar(insert(User).returning(User.id), {
            "email": "admin@example.org", "password_hash": hash_password(PASSWORD), "display_name": "管理员",
            "group": ParticipantGroup.CITIZEN, "locale": "zh", "is_admin": True, "created_at": now - timedelta(days=9),
            "email_confirmed_at": now, "session_token": secrets.token_urlsafe(24)})
        db.session.execute(insert(User), {
            "email": "voter@example.org", "password_hash": hash_password(PASSWORD), "display_name": "投票市民",
            "group": ParticipantGroup.CITIZEN, "locale": "zh", "is_admin": False,
            "created_at": now - timedelta(days=9), "email_confirmed_at": now,
            "session_token": secrets.token_urlsafe(24)})
        citizens = max(200, int(50_000 * scale))
        # Many rows in one statement each (insert_rows), their ids read back in order: an INSERT of many VALUES
        # with RETURNING is parsed again by the driver for each batch, half of the load's time.
        insert_rows(db.session, User, [
            {"email": f"citizen{n}@example.org", "password_hash": "bench-not-a-real-hash",
             "display_name": f"市民{n}", "group": ParticipantGroup.CITIZEN, "locale": "zh", "is_admin": False,
             "created_at": now - timedelta(days=30), "email_confirmed_at": now - timedelta(days=30),
             "session_token": secrets.token_urlsafe(12), "mail_off": []} for n in range(citizens)])
        citizen_ids = list(db.session.scalars(select(User.id).where(User.email.like("citizen%@example.org"))
                                              .order_by(User.id)))

        def new_call(kind, title: str, size: int) -> Call:
            opened = now - timedelta(days=20)
            call = Call(kind=kind, title=title, department=city, opens_at=opened, closes_at=now + timedelta(days=30),
                        published_at=opened, summary="征集市民对社区更新的意见和建议。", brief="## 说明\n\n欢迎建言。",
                        image_formats=["JPEG", "PNG"], images_min=0 if kind is CallKind.IDEA else 1,
                        entries_per_person=size // len(citizen_ids) + 1, public_weight=100, expert_weight=0)
            db.session.add(call)
            db.session.flush()
            return call

        def entries(call: Call, size: int, images: bool, index: bool = True) -> list[int]:
            rows = []
            for n in range(size):
                title, description = idea_text(rng, n + 1)
                rows.append({"call_id": call.id, "author_id": citizen_ids[n % len(citizen_ids)], "author_name": "",
                             "slot": n // len(citizen_ids) + 1, "channel": list(Channel)[n % 6],
                             "status": EntryStatus.APPROVED, "title": title, "description": description,
                             "licence_accepted_at": now, "created_at": now, "updated_at": now, "moderated_at": now,
                             "rejection_reason": ""})
            for start in range(0, len(rows), 20_000):
                insert_rows(db.session, Entry, rows[start:start + 20_000])
            ids = list(db.session.scalars(select(Entry.id).where(Entry.call_id == call.id).order_by(Entry.id)))
            recount(db.session.connection(), [call.id])  # counted, as the counts' hook would
            db.session.commit()
            if index:
                indexers.words_and_bands(ids)  # while the rest loads
            if images:
                image_ids = list(db.session.scalars(insert(Image).returning(Image.id, sort_by_parameter_order=True), [
                    {"format": "JPEG", "width": 4000, "height": 3000, "byte_size": 3_000_000,
                     "sha256": secrets.token_hex(32), "dhash": secrets.token_hex(8), "uploaded_by_id": admin_id,
                     "created_at": now} for _ in ids]))
                db.session.execute(insert(ImageFile), [
                    {"image_id": i, "name": name, "backend": "local", "key": f"images/bench/{i}-{name}.jpg",
                     "content_type": "image/jpeg", "byte_size": 40_000, "width": w, "height": h}
                    for i in image_ids for name, w, h in (("original", 4000, 3000), ("page", 1200, 900),
                                                          ("gallery", 400, 300))])
                db.session.execute(insert(EntryImage), [
                    {"entry_id": e, "image_id": i, "position": 0, "alt_text": "设计图", "is_scan": False}
                    for e, i in zip(ids, image_ids, strict=True)])
            return ids

        def votes_round(call: Call, entry_ids: list[int], votes: int) -> Round:
            round_ = Round(call=call, position=1, kind=RoundKind.PUBLIC, title="市民投票",
                           opens_at=now - timedelta(days=10), closes_at=now - timedelta(hours=1),
                           public_mode=PublicMode.VOTES, votes_per_citizen=10, min_account_age_hours=0,
                           hide_counts=True, jurors_per_entry=0, takes_all_approved=True)
            db.session.add(round_)
            db.session.flush()
            per_voter = 10
            voters = citizen_ids[: max(1, votes // per_voter)]
            with db.session.connection().connection.cursor() as cursor:
                with cursor.copy("COPY vote (round_id, user_id, entry_id, created_at, address, voided_reason) "
                                 "FROM STDIN") as copy:
                    for k, voter in enumerate(voters):
                        for entry_id in rng.sample(entry_ids, min(per_voter, len(entry_ids))):
                            copy.write_row((round_.id, voter, entry_id, now - timedelta(days=5, seconds=k),
                                            f"10.{k % 250}.{k // 250 % 250}.1", ""))
            return round_

        def pairwise_round(call: Call, entry_ids: list[int], comparisons: int) -> Round:
            round_ = Round(call=call, position=1, kind=RoundKind.PUBLIC, title="两两比较",
                           opens_at=now - timedelta(days=3), closes_at=now + timedelta(days=10),
                           public_mode=PublicMode.PAIRWISE, min_account_age_hours=0, hide_counts=False,
                           jurors_per_entry=0, takes_all_approved=True)
            db.session.add(round_)
            db.session.flush()
            per_voter = 20
            with db.session.connection().connection.cursor() as cursor:
                with cursor.copy("COPY comparison (round_id, user_id, nonce, left_id, right_id, winner_id, low_id, "
                                 "high_id, created_at, address, voided_reason) FROM STDIN") as copy:
                    asked = set()
                    for k in range(comparisons):
                        voter = citizen_ids[k // per_voter % len(citizen_ids)]
                        left, right = rng.sample(entry_ids, 2)
                        while (voter, min(left, right), max(left, right)) in asked:
                            left, right = rng.sample(entry_ids, 2)
                        asked.add((voter, min(left, right), max(left, right)))
                        copy.write_row((round_.id, voter, secrets.token_hex(16), left, right,
                                        left if rng.random() < 0.55 else right, min(left, right), max(left, right),
                                        now - timedelta(hours=1, seconds=k), "10.0.0.1", ""))
            return round_

        sizes = {"small": (SMALL, SMALL * 500_000 // 160_000, SMALL, SMALL * 40),
                 "city": (int(160_000 * scale), int(500_000 * scale), int(5_000 * scale), int(200_000 * scale))}
        ids: dict = {}
        indexers = Indexers(url, folder)
        for name, (ideas, votes, designs, comparisons) in sizes.items():
            idea_call = new_call(CallKind.IDEA, f"社区微更新金点子征集（{name}）", ideas)
            idea_entries = entries(idea_call, ideas, images=False)
            vround = votes_round(idea_call, idea_entries, votes)
            design_call = new_call(CallKind.DESIGN, f"口袋公园设计方案（{name}）", designs)
            pround = pairwise_round(design_call, entries(design_call, designs, images=True), comparisons)
            db.session.commit()
            # The API pages a call's entries by a seek: its hundredth page (20 a page, newest first) begins after
            # the entry that ends the 99th.
            api_page = min(100, max(1, ideas // 20))
            newest = sorted(idea_entries, reverse=True)
            ids[name] = {"api_page": api_page, "api_after": newest[(api_page - 1) * 20 - 1] if api_page > 1 else None,
                         "idea_call": idea_call.id, "votes_round": vround.id, "design_call": design_call.id,
                         "pairwise_round": pround.id, "ideas": ideas, "votes": votes, "designs": designs,
                         "comparisons": comparisons}
        db.session.commit()
        figures["index_s"] = indexers.finish()
        figures["fill_s"] = time.perf_counter() - started
        vacuum(url)  # every table, before the pages are timed
        admin = db.session.get(User, admin_id)
        began = time.perf_counter()  # the clock's turn after the votes rounds closed: it asks for the large call's
        figures["clock_queued"] = jobs.queue_due()  # snapshot (every call of the run in the database)
        figures["clock_queue_ms"] = (time.perf_counter() - began) * 1000
        began = time.perf_counter()  # the same pass computes and stores what it asked for, before anyone looks
        ranking.compute_queued()
        worker_s = time.perf_counter() - began
        for name in sizes:
            call = db.session.get(Call, ids[name]["idea_call"])
            by_worker = jobs.job_of(call, JobKind.SNAPSHOT) is not None
            figures[f"snapshot_{name}_worker"] = by_worker
            began = time.perf_counter()  # the organisers' first look: computed in it for a small call, read for
            ranking.current(call)  # the large one
            db.session.commit()
            figures[f"results_request_{name}_s"] = time.perf_counter() - began
            figures[f"snapshot_{name}_s"] = worker_s * by_worker + figures[f"results_request_{name}_s"]
            began = time.perf_counter()
            publication.publish(admin, call, 7, None)
            db.session.commit()
            figures[f"publish_{name}_s"] = time.perf_counter() - began
            began = time.perf_counter()  # the entrants' mails: the worker's for a large call (none left for a small)
            publication.mail_queued()
            figures[f"results_mails_{name}_s"] = time.perf_counter() - began
        ids["vote_bench"] = vote_bench(db, new_call, entries, now, citizen_ids)
        db.session.commit()
        db.engine.dispose()
    figures["ids"] = ids
    return figures


def app_config(url: str, folder: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_DIR": folder, "MAIL_BACKEND": "log",
            "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"}


INDEXERS = 3  # processes indexing the entries loaded: each waits for its database half the time, so 3 keep 2 cores busy
INDEX_CHUNK = 500  # entries a transaction


class Indexers:
    """The entries are written in bulk, past the session hook that keeps the search index in step: they are
    indexed as `flask reindex-search` does (contest.services.search.index_entries), or the searches would search
    an empty index and the common-issues view would show no similar texts. First every entry's words and MinHash
    bands, a chunk of entries a task (a transaction), as soon as its call's entries are in, so that INDEXERS
    processes index while the loader goes on with the votes and the next calls; then, from all the bands, each
    entry's similar entries, each process the next run of ids (the pairs two processes both find are written
    once)."""

    def __init__(self, url: str, folder: str):
        self.url = url
        self.pool = ProcessPoolExecutor(INDEXERS, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_indexer, initargs=(url, folder))
        self.ids: list[int] = []
        self.words: list = []
        self.began = time.perf_counter()

    def words_and_bands(self, ids: list[int]) -> None:
        self.ids += ids
        self.words += [self.pool.submit(_index_words, ids[start:start + INDEX_CHUNK])
                       for start in range(0, len(ids), INDEX_CHUNK)]

    def finish(self) -> dict[str, float]:
        """Once everything is loaded: the words and bands finished, then the similar entries; each stage's time
        (the first from the first call's entries, beside the loading)."""
        took = {}
        try:
            loaded = time.perf_counter()
            for future in self.words:
                future.result()
            vacuum(self.url, "entry_band", "entry")
            took["words and bands, after the load"] = time.perf_counter() - loaded
            took["words and bands, in all"] = time.perf_counter() - self.began
            began = time.perf_counter()
            ids = sorted(self.ids)
            size = -(-len(ids) // INDEXERS)
            list(self.pool.map(_find_pairs, [ids[start:start + size] for start in range(0, len(ids), size)]))
            took["similar entries"] = time.perf_counter() - began
        finally:
            self.pool.shutdown(cancel_futures=True)
        return took


def vacuum(url: str, *tables: str) -> None:
    """VACUUM ANALYZE of these tables (of every table without any), as production's autovacuum does soon after a
    load (it is off on this machine). VACUUM as well as ANALYZE: the rows just written leave the visibility map
    unset until a vacuum, and every index-only scan (the few neighbours of each band the similar entries are found
    from, a round's counts by entry, its crowded addresses) then reads each row from the table too, 5x slower."""
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tables)}")
    engine.dispose()


def _start_indexer(url: str, folder: str) -> None:
    """An indexing process's app, kept for its tasks."""
    from contest import create_app

    create_app(app_config(url, folder)).app_context().push()


def _index_words(ids: list[int]) -> None:
    from contest.extensions import db
    from contest.services.search import index_entries

    with db.engine.connect() as connection:
        index_entries(connection, ids, pairs=False, every=True)
        connection.commit()


def _find_pairs(ids: list[int]) -> None:
    from contest.extensions import db
    from contest.services import similar

    with db.engine.connect() as connection:
        similar.find_pairs(connection, ids, after_chunk=connection.commit)
        connection.commit()


def vote_bench(db, new_call, entries, now, citizen_ids) -> dict:
    """An open idea call of VOTE_ENTRIES entries with two open votes rounds (one timed with the city's votes
    stored, one after the vote table is emptied), and voters who can log in."""
    from sqlalchemy import insert

    from contest.models import CallKind, ParticipantGroup, PublicMode, Round, RoundKind, User
    from contest.services.accounts import hash_password

    call = new_call(CallKind.IDEA, "投票测速", VOTE_ENTRIES)
    entry_ids = entries(call, VOTE_ENTRIES, images=False, index=False)  # voted for, never searched
    rounds = []
    for position in (1, 2):
        round_ = Round(call=call, position=position, kind=RoundKind.PUBLIC, title=f"投票{position}",
                       opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10),
                       public_mode=PublicMode.VOTES, votes_per_citizen=VOTES_EACH, min_account_age_hours=0,
                       hide_counts=True, jurors_per_entry=0, takes_all_approved=True)
        db.session.add(round_)
        db.session.flush()
        rounds.append(round_.id)
    password = hash_password(PASSWORD)
    emails = [f"bench-voter{n}@example.org" for n in range(VOTE_CLIENTS * VOTERS_EACH)]
    db.session.execute(insert(User), [
        {"email": email, "password_hash": password, "display_name": f"测速市民{n}",
         "group": ParticipantGroup.CITIZEN, "locale": "zh", "is_admin": False, "created_at": now - timedelta(days=9),
         "email_confirmed_at": now, "session_token": secrets.token_urlsafe(24)} for n, email in enumerate(emails)])
    return {"call": call.id, "rounds": rounds, "entries": entry_ids, "emails": emails}


# Serving and timing -----------------------------------------------------------------------------------

def start_gunicorn(url: str, folder: str, port: int) -> tuple[subprocess.Popen, Path]:
    log = Path(folder) / "gunicorn.log"
    env = dict(os.environ, CONTEST_DATABASE_URL=url, CONTEST_SECRET_KEY="bench city secret",
               CONTEST_MAIL_BACKEND="log", CONTEST_UPLOAD_DIR=folder, CONTEST_REDIS_URL="",
               CONTEST_ENV="development", CONTEST_BENCH="votes")
    command = [str(VENV_BIN / "gunicorn"), "--workers", "1", "--threads", "2", "--timeout", str(TIMEOUT_S + 30),
               "--bind", f"127.0.0.1:{port}", "--pythonpath", f"{ROOT / 'bench'},{ROOT}",
               "--log-level", "warning", "--error-logfile", str(log), "--capture-output",
               "_votes_app:app"]  # the site with the vote rate limits raised, as bench/votes.py serves it
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/account/login", timeout=2).status_code == 200:
                return process, log
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in 60 s")


def log_in(base: str, email: str = "admin@example.org") -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/account/login", timeout=30).text
    answer = session.post(base + "/account/login", data={
        "csrf_token": CSRF_RE.search(page).group(1), "email": email, "password": PASSWORD},
        timeout=30, allow_redirects=False)
    assert answer.status_code == 302, answer.status_code
    return session


def pages(ids: dict) -> dict[str, str]:
    idea = ids["idea_call"]
    return {
        "results page, votes round": f"/calls/{idea}/results",
        "organiser's entry list": f"/console/calls/{idea}/",
        "entries CSV export": f"/console/calls/{idea}/entries.csv",
        "public round page, votes": f"/rounds/{ids['votes_round']}",
        "public round page, pairwise": f"/rounds/{ids['pairwise_round']}",
        "the next pair to compare": f"/rounds/{ids['pairwise_round']}/compare",
        "organiser's results page": f"/console/calls/{idea}/results",
        "organiser's common-issues view": f"/console/calls/{idea}/issues",
        "organiser's follow-up page": f"/console/calls/{idea}/follow-up",
        "API results": f"/api/v1/calls/{idea}/results",
        "results CSV export": f"/console/calls/{idea}/results.csv",
        "organiser's votes round page": f"/console/rounds/{ids['votes_round']}/",
        "organiser's pairwise round page": f"/console/rounds/{ids['pairwise_round']}/",
        "call page, with its journey": f"/calls/{idea}",
        "moderation queue": f"/console/calls/{idea}/moderation",
        # Both page by a seek: the API's hundredth page from the entry before it, the gallery's last from the end.
        "API entries, page 100": f"/api/v1/calls/{idea}/entries" + (f"?after={ids['api_after']}"
                                                                    if ids["api_after"] else ""),
        "gallery, last page": f"/calls/{idea}/entries?last=1",
    }


def measure(session: requests.Session, base: str, path: str) -> dict:
    times, size, status = [], 0, None
    for k in range(REPEATS):
        started = time.perf_counter()
        try:
            response = session.get(base + path, timeout=TIMEOUT_S)
        except requests.Timeout:
            return {"ms": None, "kb": None, "status": "timeout"}
        times.append(time.perf_counter() - started)
        if k == 0:
            size, status = len(response.content), response.status_code
        if times[-1] > 20:  # a very slow page: one answer tells enough
            break
    return {"ms": statistics.median(times) * 1000, "kb": size / 1024, "status": status}


def run(scale: float) -> dict:
    name = create_database()
    url = f"{SQLALCHEMY_BASE}/{name}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            figures = fill(url, folder, scale)
            port = free_port()
            process, log = start_gunicorn(url, folder, port)
            try:
                base = f"http://127.0.0.1:{port}"
                session, voter = log_in(base), log_in(base, "voter@example.org")
                small, city = pages(figures["ids"]["small"]), pages(figures["ids"]["city"])
                figures["rows"] = []
                for page in small:
                    who = voter if "compare" in page else session  # an organiser is never shown a pair
                    who.get(base + small[page], timeout=TIMEOUT_S)  # warm-up
                    figures["rows"].append((page, measure(who, base, small[page]), measure(who, base, city[page])))
                figures["search"] = []
                for label, words in SEARCHES:
                    urls = [f"/calls/{figures['ids'][size]['idea_call']}/entries?q={words}" for size in ("small",
                                                                                                     "city")]
                    session.get(base + urls[0], timeout=TIMEOUT_S)
                    figures["search"].append((label, measure(session, base, urls[0]), measure(session, base, urls[1])))
                from bench.export_memory import peaks

                ids = figures["ids"]  # before the votes' timing empties the vote table
                figures["exports"] = peaks(url, folder, ids["small"]["idea_call"], ids["city"]["idea_call"],
                                           "admin@example.org")
                figures["votes"] = votes_per_second(base, url, ids["vote_bench"])
            finally:
                os.killpg(process.pid, 15)
                process.wait(timeout=30)
    finally:
        drop_database(name)
    return figures


def votes_per_second(base: str, url: str, bench: dict) -> dict:
    """Votes per second into an open round with the city's votes stored, then into another after the vote
    table is emptied (TRUNCATE), from VOTE_CLIENTS clients at once; the same requests each time."""
    import psycopg

    from bench.votes import log_in as vote_log_in
    from bench.votes import run_phase

    sessions = [vote_log_in(base, email, bench["rounds"][0]) for email in bench["emails"]]
    entries = bench["entries"]

    def plan_for(round_id: int):
        def plan(n: int):
            out = []
            for i in range(VOTES_EACH):
                for v in range(VOTERS_EACH):
                    cookie, token = sessions[n * VOTERS_EACH + v]
                    entry = entries[(n * VOTERS_EACH + v + i * 7) % len(entries)]
                    out.append((f"{base}/rounds/{round_id}/votes/{entry}", {"csrf_token": token},
                                {"Cookie": f"session={cookie}"}))
            return out
        return plan

    rates = {}
    for phase, round_id in (("stored", bench["rounds"][0]), ("empty", bench["rounds"][1])):
        if phase == "empty":
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as connection:
                stored = connection.execute("SELECT count(*) FROM vote").fetchone()[0]
                connection.execute("TRUNCATE vote")
                connection.execute("ANALYZE vote")
            rates["stored_before_truncate"] = stored
        seconds, tally = run_phase(plan_for(round_id), threads=VOTE_CLIENTS)
        done = sum(n for status, n in tally.statuses.items() if status == 302)
        rates[phase] = done / seconds
        rates[f"{phase}_errors"] = sum(n for status, n in tally.statuses.items() if status != 302)
        if not done:
            raise RuntimeError(f"no vote counted ({phase}): {dict(tally.statuses)} {tally.failures[:3]}")
    rates["ratio"] = rates["stored"] / rates["empty"]
    return rates


def report(figures: dict, scale: float) -> None:
    city = figures["ids"]["city"]
    print(f"city (scale {scale}): {city['ideas']:,} ideas, {city['votes']:,} votes, {city['designs']:,} designs, "
          f"{city['comparisons']:,} comparisons; filled in {figures['fill_s']:.1f} s (indexing: "
          f"{', '.join(f'{stage} {s:.1f} s' for stage, s in figures['index_s'].items())}); "
          f"snapshot {figures['snapshot_city_s']:.1f} s (small {figures['snapshot_small_s'] * 1000:.0f} ms; "
          f"{'by the worker' if figures['snapshot_city_worker'] else 'in the request'}, asked by the clock's turn "
          f"in {figures['clock_queue_ms']:.1f} ms ({figures['clock_queued']} asked), the organisers' first look "
          f"{figures['results_request_city_s'] * 1000:.0f} ms), publishing {figures['publish_city_s']:.2f} s "
          f"(small {figures['publish_small_s'] * 1000:.0f} ms), the entrants' mails by the worker "
          f"{figures['results_mails_city_s']:.1f} s")
    print(f"{'page':34}{'100 entries':>14}{'city size':>14}{'city KB':>10}{'ratio':>9}")
    worst, worst_page, largest = 0.0, "", 0.0
    per_row = {}
    for page, small, big in figures["rows"]:
        ratio = big["ms"] / small["ms"] if big["ms"] and small["ms"] else float("inf")
        shown = f"{big['ms']:.0f} ms" if big["ms"] else big["status"]
        print(f"{page:34}{small['ms']:>11.0f} ms{shown:>14}{(big['kb'] or 0):>10.0f}{ratio:>8.1f}x"
              + ("" if big["status"] == 200 else f"  (status {big['status']})"))
        if page in DOWNLOADS:  # judged by its time per row (and its memory, below)
            per_row[page] = ratio * SMALL / city[DOWNLOADS[page]]
            print(f"{'':34}  a download of {city[DOWNLOADS[page]]:,} rows against {SMALL}: "
                  f"{per_row[page]:.2f}x the time per row")
            ratio = per_row[page]
        else:
            largest = max(largest, big["kb"] or 0)
        if ratio > worst:
            worst, worst_page = ratio, page
    search_ms = 0.0
    for label, small, big in figures["search"]:
        print(f"{label:34}{small['ms']:>11.0f} ms{big['ms']:>11.0f} ms{(big['kb'] or 0):>10.0f}"
              + ("" if big["status"] == 200 else f"  (status {big['status']})"))
        search_ms = max(search_ms, big["ms"] or float("inf"))
    votes = figures["votes"]
    print(f"votes per second, {votes['stored_before_truncate']:,} votes stored: {votes['stored']:.1f}; the vote table "
          f"empty: {votes['empty']:.1f}; ratio {votes['ratio']:.2f} (target >= {VOTE_TARGET}; "
          f"{votes['stored_errors'] + votes['empty_errors']} answers other than 302)")
    from bench.export_memory import describe

    exports = describe(figures["exports"], (SMALL, city["ideas"]))
    print(json.dumps({"bench": "city", "scale": scale, "worst_ratio": round(worst, 1), "worst_page": worst_page,
                      "largest_html_kb": round(largest), "search_ms": round(search_ms, 1),
                      "download_per_row_ratio": {page: round(r, 2) for page, r in per_row.items()},
                      "vote_ratio": round(votes["ratio"], 3), "snapshot_s": round(figures["snapshot_city_s"], 2),
                      "publish_s": round(figures["publish_city_s"], 2),
                      "results_mails_s": round(figures["results_mails_city_s"], 2),
                      "fill_s": round(figures["fill_s"], 1), "fill_target_s": FILL_TARGET_S,
                      "csv_peak_mb": [exports["csv_peak_mb_small"], exports["csv_peak_mb_large"]],
                      "csv_peak_ratio": exports["csv_ratio"],
                      "archive_peak_mb": [exports["archive_peak_mb_small"], exports["archive_peak_mb_large"]],
                      "archive_peak_ratio": exports["archive_ratio"], "target_ratio": TARGET_RATIO,
                      "targets_met": worst <= TARGET_RATIO and largest <= 500 and search_ms < SEARCH_TARGET_MS
                      and votes["ratio"] >= VOTE_TARGET and figures["snapshot_city_s"] < 60
                      and (scale < 1 or figures["fill_s"] <= FILL_TARGET_S)},
                     ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the city's figures (0.1: a tenth)")
    arguments = parser.parse_args()
    report(run(arguments.scale), arguments.scale)
