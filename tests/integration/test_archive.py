"""A call's archive: the demo's finished railing call goes out as one zip and comes back, in an empty site and in
a busy one, with the same pages and the same images; a changed archive, or a second import, changes nothing."""
from __future__ import annotations

import contextvars
import csv
import hashlib
import io
import json
import re
import secrets
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import has_request_context
from sqlalchemy import JSON, create_engine, func, select, text
from sqlalchemy.engine import make_url

from contest import archive, create_app
from contest.extensions import db
from contest.models import (
    Assignment,
    Call,
    Entry,
    EntryImage,
    EntryStatus,
    FollowUp,
    FollowUpUpdate,
    Image,
    ImageFile,
    Meeting,
    Round,
    RoundKind,
    Score,
    User,
)
from contest.services import public as public_service
from contest.services import results as results_service
from contest.services.accounts import authenticate
from contest.storage import storage
from tests import helpers
from tests.conftest import RequestIsolatingClient, empty_all_tables, empty_tables, settings_for_tests

RAILING, IDEA = "道路栏杆请您绘", "15分钟社区生活圈：您身边还缺什么？"
CSRF = re.compile(r'(name="csrf_token" value=")[^"]*(")')


@dataclass
class Source:
    """The demo site, each call's archive, and what its pages and files were."""

    calls: dict[str, int]  # title -> id
    archives: dict[str, Path]
    pages: dict[str, tuple[int, str]]  # url -> (status, page)
    files: dict[str, dict[tuple[int, str], bytes]]  # title -> (image id, size) -> bytes
    urls: dict[str, list[str]]  # title -> the pages of the call


def page(client, url: str, language: str = "zh") -> tuple[int, str]:
    with client.session_transaction() as session:
        session["lang"] = language
    response = client.get(url)
    return response.status_code, CSRF.sub(r"\1…\2", response.get_data(as_text=True))


def urls_of(call_id: int) -> list[str]:
    """The call's public pages, its entries' pages (approved or not: 404 must stay 404) and its meetings."""
    entries = db.session.scalars(select(Entry.id).where(Entry.call_id == call_id).order_by(Entry.id)).all()
    meetings = db.session.scalars(select(Meeting.id).where(Meeting.call_id == call_id)).all()
    return [f"/calls/{call_id}", f"/calls/{call_id}/results", f"/calls/{call_id}/follow-up",
            f"/calls/{call_id}/entries", *[f"/entries/{e}" for e in entries], *[f"/meetings/{m}" for m in meetings]]


def pages_of(client, urls: list[str]) -> dict[str, tuple[int, str]]:
    found = {url: page(client, url) for url in urls}
    found.update({f"en:{url}": page(client, url, "en") for url in urls[:3]})
    return found


def stored_files(call_id: int) -> dict[tuple[int, str], bytes]:
    """Every stored file of the call's images (its cover, its entries', its follow-up's photos), by image and size."""
    images = select(Call.cover_image_id).where(Call.id == call_id).union(
        select(EntryImage.image_id).join(Entry, Entry.id == EntryImage.entry_id).where(Entry.call_id == call_id),
        select(FollowUpUpdate.image_id).join(FollowUp, FollowUp.id == FollowUpUpdate.follow_up_id)
        .where(FollowUp.call_id == call_id))
    files = db.session.scalars(select(ImageFile).where(ImageFile.image_id.in_(images)))
    return {(f.image_id, f.name): storage(f.backend).get(f.key) for f in files}


@pytest.fixture(scope="module")
def source(migrated_database, tmp_path_factory, demo_snapshot):
    folder = tmp_path_factory.mktemp("source")
    app = create_app(settings_for_tests(migrated_database, folder))
    app.test_client_class = RequestIsolatingClient
    # The demo goes into an empty site, with the ids a fresh site has (the busy site's must differ from them).
    empty_all_tables(app)
    with app.app_context():
        runner = app.test_cli_runner()
        demo_snapshot.install(app)
        with app.test_request_context():  # the public rounds' standings and tallies made, as their pages make them
            for round_ in db.session.scalars(select(Round).where(Round.kind == RoundKind.PUBLIC)):
                public_service.refresh_standing(round_, timedelta(0))
            db.session.commit()
        calls = {title: db.session.scalar(select(Call.id).where(Call.title == title)) for title in (RAILING, IDEA)}
        archives, pages, files, urls = {}, {}, {}, {}
        for title, call_id in calls.items():
            archives[title] = folder / f"call-{call_id}.zip"
            result = runner.invoke(args=["export-call", str(call_id), "--output", str(archives[title])])
            assert result.exit_code == 0, result.output
            urls[title] = urls_of(call_id)
            pages.update(pages_of(app.test_client(), urls[title]))
            files[title] = stored_files(call_id)
        db.session.remove()
    yield Source(calls, archives, pages, files, urls)
    empty_all_tables(app)


@pytest.fixture(scope="session")
def target_database(migrated_database, tmp_path_factory):
    """A second database made by the migrations, for the site an archive is restored into."""
    from flask_migrate import upgrade

    url = make_url(migrated_database)
    if url.get_backend_name() == "sqlite":
        target = f"sqlite:///{tmp_path_factory.mktemp('target') / 'target.sqlite3'}"
    else:
        target = url.set(database=f"{url.database}_target_{secrets.token_hex(3)}").render_as_string(
            hide_password=False)
        server = create_engine(url, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{make_url(target).database}"'))
    app = create_app(settings_for_tests(target, tmp_path_factory.mktemp("target-migrate")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield target
    if url.get_backend_name() != "sqlite":
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(target).database}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def site(app_factory, target_database, tmp_path):
    """An empty site on its own database and storage."""
    app = app_factory(SQLALCHEMY_DATABASE_URI=target_database, UPLOAD_DIR=str(tmp_path / "target-uploads"))
    with app.app_context():
        # The earlier tests' rows were rolled back, but PostgreSQL's sequences went on: an empty site's ids start
        # at 1 (in the test's transaction, so this is rolled back too).
        empty_tables(db.session.connection())
        db.session.commit()
        yield app


def import_call(site, path) -> tuple[int, str]:
    result = site.test_cli_runner().invoke(args=["import-call", str(path)])
    return result.exit_code, result.output


def row_counts() -> dict[str, int]:
    connection = db.session.connection()  # the test's own, in its transaction
    return {t.name: connection.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def stored_keys() -> list[str]:
    return list(storage().keys(""))


# What is in it ------------------------------------------------------------------------------------

def test_every_table_that_leads_to_a_call_travels_with_it_or_is_left_out_on_purpose():
    owned = {t.name for t in archive.owned_tables()}
    leads, grown = {"call"}, True
    while grown:  # every table with a chain of foreign keys to `call`
        grown = False
        for table in db.metadata.sorted_tables:
            if table.name not in leads and {fk.column.table.name for fk in table.foreign_keys} & leads:
                leads.add(table.name)
                grown = True
    assert leads <= owned
    assert {"image", "image_file", "duplicate_flag"} <= owned  # the images the call's rows show
    assert set(archive.coverage()) == set(db.metadata.tables), "say in contest/archive/ how a new table travels"
    assert not owned & (set(archive.LEFT_OUT) | set(archive.SHARED))
    # Every JSON column is known to hold ids (translated on import) or to hold none.
    classified = set(archive.JSON_WITH_IDS) | set(archive.JSON_WITHOUT_IDS)
    for name in owned | set(archive.SHARED) | set(archive.BY_TARGET):
        for column in db.metadata.tables[name].columns:
            if isinstance(column.type, JSON):
                assert (name, column.name) in classified, f"{name}.{column.name} holds ids or not?"


def test_the_archive_is_readable_without_the_site_and_keeps_no_secrets(source):
    with zipfile.ZipFile(source.archives[RAILING]) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == archive.FORMAT and manifest["call"]["title"] == RAILING
        assert manifest["schema"]
        listed = {f["path"]: f for f in manifest["files"]}
        assert set(zf.namelist()) == set(listed) | {"manifest.json"}
        for path, entry in listed.items():
            assert hashlib.sha256(zf.read(path)).hexdigest() == entry["sha256"]
        names = set(listed)
        assert {f"data/{t.name}.json" for t in archive.owned_tables()} <= names
        assert {"data/user.json", "data/department.json", "data/audit_event.json", "README.txt",
                "public/results.json", "public/timeline.json", "public/zh/results.html", "public/en/call.html",
                "spreadsheets/entries.csv", "spreadsheets/scores.csv", "spreadsheets/comparisons.csv",
                "spreadsheets/results.csv"} <= names
        # Every stored file, originals and derived sizes, under its key.
        keys = {row["key"] for row in json.loads(zf.read("data/image_file.json"))}
        assert {f"files/{key}" for key in keys} == {n for n in names if n.startswith("files/")}
        assert {row["name"] for row in json.loads(zf.read("data/image_file.json"))} == \
            {"original", "zoom", "page", "gallery"}
        assert len(keys) == len(source.files[RAILING])
        # The follow-up's photo and the call's cover are there.
        updates = json.loads(zf.read("data/follow_up_update.json"))
        images = {r["id"] for r in json.loads(zf.read("data/image.json"))}
        assert any(u["image_id"] in images for u in updates)
        assert json.loads(zf.read("data/call.json"))[0]["cover_image_id"] in images

        users = json.loads(zf.read("data/user.json"))
        assert users and all("password_hash" not in u and "session_token" not in u for u in users)
        assert "transport@example.org" in {u["email"] for u in users}  # kept, so the site works (README says so)
        data = b"".join(zf.read(n) for n in names if not n.startswith("files/"))
        assert b"192.0.2." not in data  # the demo's voters' addresses became pseudonyms
        rounds = json.loads(zf.read("data/round.json"))
        assert all(r["standing_tallies"] is None for r in rounds)  # their crowded addresses: counted again
        assert b"scrypt:" not in data
        for name in ("entries.csv", "scores.csv", "comparisons.csv", "results.csv"):
            sheet = zf.read(f"spreadsheets/{name}").decode("utf-8-sig")
            assert "@" not in sheet
        ranking = list(csv.DictReader(io.StringIO(zf.read("spreadsheets/results.csv").decode("utf-8-sig"))))
        assert ranking[0]["rank"] == "1" and ranking[0]["prize"] == "一等奖"
        results = json.loads(zf.read("public/results.json"))
        assert results["final_at"] and results["ranking"][0]["title"]
        assert [e["kind"] for e in json.loads(zf.read("public/timeline.json"))][:2] == ["published", "opens"]
        assert "中山北路" in zf.read("public/zh/follow-up.html").decode()
        assert "personal data" in zf.read("README.txt").decode().lower()


def test_the_details_hold_no_ids_the_import_does_not_know(source):
    """Keys of audit and timeline details are each known to hold ids (translated) or to hold none."""
    for path in source.archives.values():
        with zipfile.ZipFile(path) as zf:
            for row in json.loads(zf.read("data/audit_event.json")):
                unknown = set(row["detail"]) - set(archive.AUDIT_DETAIL_IDS) - set(archive.AUDIT_DETAIL_PLAIN) \
                    - {"awards", "ids"}
                assert not unknown, (row["action"], unknown)
            for row in json.loads(zf.read("data/call_event.json")):
                unknown = set(row["detail"]) - set(archive.EVENT_DETAIL_IDS) - set(archive.EVENT_DETAIL_PLAIN)
                assert not unknown, (row["kind"], unknown)


# Back into an empty site -------------------------------------------------------------------------

def test_a_finished_call_comes_back_the_same_into_an_empty_site(source, site):
    code, output = import_call(site, source.archives[RAILING])
    assert code == 0, output
    assert "the same ids" in output
    call_id = source.calls[RAILING]
    client = site.test_client()
    for url in source.urls[RAILING]:
        assert page(client, url) == source.pages[url], url
    for url in source.urls[RAILING][:3]:
        assert page(client, url, "en") == source.pages[f"en:{url}"], url
    # Both languages come back: the English texts beside the Chinese ones, and the English pages show them.
    restored = db.session.get(Call, call_id)
    assert (restored.title, restored.title_en) == (RAILING, "Draw our road railings")
    assert [t.name_en for t in restored.themes] == ["Red culture", "Haipai culture", "Jiangnan culture"]
    assert [c.name_en for c in restored.rounds[0].criteria] == ["Cultural expression", "Feasibility and safety",
                                                                 "Aesthetics"]
    assert "<h1>Draw our road railings</h1>" in page(client, f"/calls/{call_id}", "en")[1]
    assert stored_files(call_id) == source.files[RAILING]
    shown = 0
    for image_id in db.session.scalars(select(Image.id)):
        response = client.get(f"/media/{image_id}/gallery")
        if response.status_code == 200:
            assert response.data == source.files[RAILING][(image_id, "gallery")]
            shown += 1
    assert shown > 20

    # The accounts are there, but nobody logs in with an old password: they reset it by e-mail.
    assert db.session.scalar(select(User).where(User.email == "transport@example.org")).is_organiser
    assert authenticate("transport@example.org", "shanghai-demo") is None
    assert not db.session.scalar(select(func.count()).select_from(User).where(User.is_admin))

    # A second import is refused, and changes nothing.
    before, keys = row_counts(), sorted(stored_keys())
    code, output = import_call(site, source.archives[RAILING])
    assert code != 0 and "already on this site" in output
    assert row_counts() == before and sorted(stored_keys()) == keys

    # The idea call joins it: its meeting, topics, tags, votes and answered objection.
    code, output = import_call(site, source.archives[IDEA])
    assert code == 0, output
    for url in source.urls[IDEA]:
        assert page(client, url) == source.pages[url], url
    assert "感谢关注" in page(client, f"/calls/{source.calls[IDEA]}/results")[1]

    # The site goes on: new rows get ids past the imported ones (PostgreSQL's sequences were moved on).
    department = db.session.get(Call, call_id).department
    assert helpers.make_call(department, title="下一个征集").id > max(source.calls.values())
    largest = db.session.scalar(select(func.max(User.id)))
    assert helpers.make_user("newcomer@example.org").id > largest


def test_a_changed_archive_is_refused_and_changes_nothing(source, site, tmp_path):
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(source.archives[RAILING]) as original, zipfile.ZipFile(changed, "w") as copy:
        victim = next(n for n in original.namelist() if n.startswith("files/") and n.endswith(".jpg"))
        for info in original.infolist():
            data = original.read(info)
            copy.writestr(info, data[:-3] + b"\x00\x00\x00" if info.filename == victim else data)
    before = row_counts()
    code, output = import_call(site, changed)
    assert code != 0 and victim in output and "SHA-256" in output
    assert row_counts() == before and stored_keys() == []

    code, output = import_call(site, tmp_path / "missing.zip")
    assert code != 0


def test_a_failed_import_takes_its_files_back(source, site, monkeypatch):
    insert = archive.restore._insert

    def failing(table, rows):
        if table.name == "score":
            raise RuntimeError("the database went away")
        insert(table, rows)

    monkeypatch.setattr(archive.restore, "_insert", failing)
    result = site.test_cli_runner().invoke(args=["import-call", str(source.archives[RAILING])])
    assert isinstance(result.exception, RuntimeError)
    assert stored_keys() == []
    assert not any(row_counts().values())


# Into a busy site --------------------------------------------------------------------------------

def test_into_a_site_with_its_own_calls_every_id_is_translated(source, site):
    """The target ran the demo too: the same people and departments (matched), every id taken."""
    assert site.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    imported = archive.import_call(source.archives[RAILING])
    db.session.commit()
    assert imported.call_id != source.calls[RAILING]
    assert {"call", "entry", "image", "round", "criterion", "comparison", "score"} <= set(imported.renumbered)
    assert imported.users_created == 0 and imported.departments_created == 0
    ids = imported.ids

    def here(url: str) -> str:
        tables = {"calls": "call", "entries": "entry", "media": "image", "meetings": "meeting", "rounds": "round"}
        url = re.sub(r"/(calls|entries|media|meetings|rounds)/(\d+)",
                     lambda m: f"/{m[1]}/{ids[tables[m[1]]][int(m[2])]}", url)
        # The ids of a page's elements (a heading named by a round, a follow-up's progress bar).
        # The pictures name their marks by entry (data-entry) and the wins-against picture by its round.
        names = {"round": "round", "entry": "entry", "follow-up": "follow_up", "progress": "follow_up",
                 "wins": "round"}
        url = re.sub(r'data-entry="(\d+)"', lambda m: f'data-entry="{ids["entry"][int(m[1])]}"', url)
        # An entry's public number is its id (the one an objection names), renumbered with it.
        url = re.sub(rf"({re.escape(helpers.zh('No. %(number)d', number=0)[:-1])})(\d+)\b",
                     lambda m: f"{m[1]}{ids['entry'][int(m[2])]}", url)
        return re.sub(r"\b(round|entry|follow-up|progress|wins)-(\d+)\b",
                      lambda m: f"{m[1]}-{ids[names[m[1]]][int(m[2])]}", url)

    client = site.test_client()
    for url in source.urls[RAILING]:
        status, body = source.pages[url]
        assert page(client, here(url)) == (status, here(body)), url
    files = stored_files(imported.call_id)
    assert files == {(ids["image"][image], name): data for (image, name), data in source.files[RAILING].items()}
    # The marks are keyed by the new criteria; the snapshot names the new entries.
    marks = db.session.scalars(select(Score.marks).join(Assignment, Assignment.id == Score.assignment_id)
                               .where(Assignment.round_id.in_(list(ids["round"].values())))).all()
    assert marks and all(set(m) <= {str(c) for c in ids["criterion"].values()} for m in marks)
    snap = results_service.stored.whole(db.session.get(Call, imported.call_id))
    entries = set(db.session.scalars(select(Entry.id).where(Entry.call_id == imported.call_id,
                                                            Entry.status == EntryStatus.APPROVED)))
    assert snap.rows and {row.entry for row in snap.rows} <= entries
    assert {e for row in snap.rows for e in row.close_to} <= entries
    assert {r.id for r in snap.rounds} <= set(ids["round"].values())
    assert {int(e) for r in snap.rounds for e in r.places} <= entries
    assert db.session.scalar(select(func.count()).select_from(ImageFile).where(
        ImageFile.image_id.in_(list(ids["image"].values())))) == len(files)
    assert db.session.scalar(select(func.count()).select_from(Call).where(Call.title == RAILING)) == 2


@pytest.mark.real_commits  # the export takes a snapshot (REPEATABLE READ) on a connection of its own
def test_the_archive_is_written_outside_any_request_with_the_pages_at_the_sites_address(app, transport_commission,
                                                                                          tmp_path):
    app.config["BASE_URL"] = helpers.SITE  # served below /sub-path of another host
    call = helpers.make_call(transport_commission, title="口袋公园请您绘")
    db.session.commit()
    path = tmp_path / "call.zip"

    def export():  # as the export-call command does: an app context, no request
        with app.app_context():
            assert not has_request_context()
            archive.export_call(call.id, path)

    contextvars.Context().run(export)
    with zipfile.ZipFile(path) as zf:
        for language in ("zh", "en"):
            page = zf.read(f"public/{language}/call.html").decode()
            assert "口袋公园请您绘" in page and f'<html lang="{"zh-Hans" if language == "zh" else "en"}"' in page
            assert 'href="/sub-path/static/css/' in page  # the links the public followed, under the site's path
            assert 'class="brand" href="/sub-path/"' in page and 'href="/sub-path/lang/' in page
