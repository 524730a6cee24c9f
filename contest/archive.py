"""A call's archive for a records office: one zip with the call's rows as JSON, spreadsheets, every stored file,
its published results and timeline; and the restoring of such an archive into another site.

What belongs to a call is not listed by hand: the foreign keys are walked from `call` (see `owned_tables`), so
a table added later travels in the archive without anyone remembering it. The tables a call shares with the
rest of the site (people, departments) are matched on import; the few left out are named with the reason.

Ids are kept when the importing site has none of them (an empty site then serves the same addresses);
otherwise a table's rows get new ids, and every reference to them is translated, JSON ones included.
"""
from __future__ import annotations

import contextvars
import enum
import hashlib
import json
import os
import secrets
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import Enum, Table, and_, func, or_, select, union
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from contest.extensions import db
from contest.models.types import UTCDateTime, utcnow
from contest.storage import StorageError, check_key, storage

FORMAT = "contest-call-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ROOT = "call"

# Shared by every call: matched on import (people by e-mail, departments by their path of names from the top of
# the tree), created only when missing. The members exported are the organisers of the call's departments.
SHARED = ("user", "department", "department_member")
# Owned by the call although no foreign key leads from them to it: the images its rows show.
BY_REFERENCE = ("image",)
# The audit trail of the call's rows: target_type names the table of the row an event is about.
BY_TARGET = ("audit_event",)
LEFT_OUT = {
    "api_token": "a person's credentials for the open-data API: nothing of the call's record, and secret",
    "outbox_mail": "mail waiting to be sent is the site's machinery; restored, it would be sent a second time",
}
# Never exported: credentials and traces of using the site. Imported accounts cannot log in until their owner
# resets the password by e-mail; administrators are made on the new site with `create-admin`.
USER_WITHHELD = ("password_hash", "session_token", "last_login_at", "is_admin")
# The network addresses votes came from become pseudonyms, the same for the same address within one archive:
# the archive still shows many accounts voting from one place without saying where that was.
PSEUDONYMISED = (("vote", "address"), ("comparison", "address"))

# JSON columns holding ids, translated on import; the others hold none (a test keeps these lists complete).
JSON_WITH_IDS = (("call", "results_snapshot"), ("score", "marks"), ("call_event", "detail"),
                 ("audit_event", "detail"))
JSON_WITHOUT_IDS = (("call", "image_formats"), ("user", "mail_off"))
# Keys of the details that hold ids, by the table the ids are of; "awards" (entry -> prize) and "ids" (the
# ballots of a round: votes or comparisons) are translated by hand. Other keys hold no ids.
EVENT_DETAIL_IDS = {"entry_id": "entry", "round_id": "round"}
EVENT_DETAIL_PLAIN = ("days", "notice_ends", "round", "advanced", "of", "entry", "stage", "from", "to", "reason",
                      "changed")
AUDIT_DETAIL_IDS = {"call_id": "call", "entry_id": "entry", "follow_up_id": "follow_up", "member_id": "round_member",
                    "objection_id": "objection", "meeting_id": "meeting", "into": "entry", "was_into": "entry",
                    "entry_ids": "entry", "advanced": "entry", "user_id": "user", "source_round_id": "round"}
AUDIT_DETAIL_PLAIN = ("images", "channel", "reason", "mode", "value", "added", "conflict", "reminded", "before",
                      "after", "first", "notice_days", "top_n", "departs", "statement", "title", "name", "label",
                      "stage", "progress", "photo", "kind", "held_at", "count", "told", "unanswered", "entries",
                      "changed")

README = """\
Archive of one call of People's City Design Calls (人民城市设计征集)
本文件是一个征集活动的完整档案：数据（JSON 与 CSV）、全部图片、公布的结果与时间线。

manifest.json        what this is: format, when and from which site version it was made, the call, and the
                     SHA-256 and size of every other file (check them with any sha256sum tool)
data/<table>.json    every row of the call, one file per table, columns by name, ids as on the exporting site;
                     user.json holds the people the rows name (no password hashes), department.json the
                     departments with their path from the top of the tree
spreadsheets/*.csv   UTF-8 (with a byte-order mark, for Excel): entries, jury scores, votes, pairwise
                     comparisons, the final ranking and the call's figures
public/              what the public saw: results.json (the published ranking, how it was made, the figures),
                     timeline.json, and the call's pages as HTML in Chinese (zh/) and English (en/)
files/<key>          every stored image file (originals and the sizes derived from them), under the key its
                     row in data/image_file.json records

Personal data: e-mail addresses, names and participant groups of the accounts that took part are kept, because
restoring the call into a site needs its accounts; keep this archive as you keep the site's database.
Network addresses of votes are replaced by pseudonyms.

Restore it into a site with:  flask --app wsgi import-call <this file>
"""


class ArchiveError(Exception):
    """The archive cannot be written or restored; the message says why (in English, for the command line)."""


# What belongs to a call -----------------------------------------------------------------------

def _tables() -> dict[str, Table]:
    return {t.name: t for t in db.metadata.sorted_tables}


def _targets(table: Table) -> set[str]:
    return {fk.column.table.name for fk in table.foreign_keys if fk.column.table is not table}


def owned_tables() -> list[Table]:
    """The tables whose rows belong to one call, in the order rows are inserted: `call`, every table with a
    foreign key to one of them, and the images those rows refer to (with every table under an image)."""
    names = {ROOT}
    grown = True
    while grown:
        grown = False
        for table in db.metadata.sorted_tables:
            if table.name in names or table.name in SHARED:
                continue
            refers = _targets(table) & names
            referred = table.name in BY_REFERENCE and any(
                table.name in _targets(other) for other in db.metadata.sorted_tables if other.name in names)
            if refers or referred:
                names.add(table.name)
                grown = True
    return [t for t in db.metadata.sorted_tables if t.name in names]


def coverage() -> dict[str, str]:
    """How each table of the site is archived: owned, shared, by target, or left out (with the reason)."""
    found = {t.name: "owned by the call" for t in owned_tables()}
    found.update({name: "shared, matched on import" for name in SHARED})
    found.update({name: "the call's rows' events" for name in BY_TARGET})
    found.update({name: f"left out: {why}" for name, why in LEFT_OUT.items()})
    return found


def _under(table: Table, parent: str, owned: set[str]) -> bool:
    """Whether the table hangs from `parent` only (an image's files and flags), rather than showing it."""
    return table.name != ROOT and _targets(table) & owned == {parent}


def _selections(call_id: int) -> dict[str, ColumnElement]:
    """For each owned table, the condition its rows of this call meet, built from its foreign keys: every key to
    an owned table points at a row of the call (self-references aside)."""
    owned = owned_tables()
    names = {t.name for t in owned}
    by_name = {t.name: t for t in owned}
    where: dict[str, ColumnElement] = {ROOT: by_name[ROOT].c.id == call_id}

    def ids_of(name: str):
        return select(by_name[name].c.id).where(where[name])

    pending = [t for t in owned if t.name != ROOT]
    while pending:
        left = []
        for table in pending:
            if table.name in BY_REFERENCE:
                showing = [(other, fk) for other in owned for fk in other.foreign_keys
                           if fk.column.table is table and other is not table and not _under(other, table.name, names)]
                if any(other.name not in where for other, _fk in showing):
                    left.append(table)
                    continue
                shown = [select(fk.parent).where(where[other.name], fk.parent.is_not(None)) for other, fk in showing]
                where[table.name] = table.c.id.in_(union(*shown) if len(shown) > 1 else shown[0])
                continue
            # A key to an image is what makes the image the call's, not the other way round (unless the table
            # hangs from the image alone: its files, its duplicate flags).
            keys = [fk for fk in table.foreign_keys if fk.column.table.name in names and fk.column.table is not table
                    and (fk.column.table.name not in BY_REFERENCE or _under(table, fk.column.table.name, names))]
            if any(fk.column.table.name not in where for fk in keys):
                left.append(table)
                continue
            if all(fk.parent.nullable for fk in keys):
                raise ArchiveError(f"table {table.name} has no required key to the call's rows: say in "
                                   "contest/archive.py how it belongs to a call")
            where[table.name] = and_(*(
                fk.parent.in_(ids_of(fk.column.table.name)) if not fk.parent.nullable
                else or_(fk.parent.is_(None), fk.parent.in_(ids_of(fk.column.table.name))) for fk in keys))
        if len(left) == len(pending):
            raise ArchiveError("the tables of a call depend on each other in a circle: " +
                               ", ".join(t.name for t in left))
        pending = left
    return where


# Values in JSON ---------------------------------------------------------------------------------

def _dump(table: Table, row) -> dict:
    out = {}
    for column in table.columns:
        value = getattr(row, column.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, enum.Enum):
            value = value.value
        out[column.name] = value
    return out


def _load(table: Table, values: dict) -> dict:
    out = {}
    for name, value in values.items():
        column = table.c[name]
        if value is not None and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(column.type, Enum) and column.type.enum_class is not None:
            value = column.type.enum_class(value)
        out[name] = value
    return out


def _rows(table: Table, condition) -> list[dict]:
    order = list(table.primary_key.columns)
    return [_dump(table, r) for r in db.session.execute(select(table).where(condition).order_by(*order))]


def _rows_by_id(table: Table, ids: set[int]) -> list[dict]:
    return [row for chunk in _chunks(sorted(ids)) for row in _rows(table, table.c.id.in_(chunk))]


# Export -------------------------------------------------------------------------------------------

class _Writer:
    """Adds files to the zip and remembers each one's SHA-256 and size for the manifest."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive, self.files = archive, []

    def add(self, path: str, data: bytes | str, *, compress: bool = True) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.archive.writestr(path, data, zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)
        self.files.append({"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})

    def json(self, path: str, value) -> None:
        self.add(path, json.dumps(value, ensure_ascii=False, indent=1))


@dataclass
class Exported:
    path: Path
    call_id: int
    rows: dict[str, int]  # table -> rows
    files: int


def export_call(call_id: int, output: str | os.PathLike) -> Exported:
    """Write the archive of a call to `output` (a zip; written beside it first, so no half archive is left)."""
    from contest.models import Call

    if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        # One snapshot of the database for the whole archive, even while the site keeps running.
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    call = db.session.get(Call, call_id)
    if call is None:
        raise ArchiveError(f"There is no call {call_id}.")
    data = _gather(call_id)
    path = Path(output)
    partial = path.with_name(path.name + ".part")
    files = 0
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            writer = _Writer(archive)
            writer.add("README.txt", README)
            for name, rows in data.items():
                writer.json(f"data/{name}.json", rows)
            for name, text in _spreadsheets(call).items():
                writer.add(f"spreadsheets/{name}", text)  # with its byte-order mark (contest.tabular)
            for name, content in _public(call).items():
                writer.add(f"public/{name}", content)
            for row in data.get("image_file", []):
                try:
                    content = storage(row["backend"]).get(row["key"])
                except StorageError as error:
                    raise ArchiveError(f"The file {row['key']} could not be read: {error}") from None
                writer.add(f"files/{row['key']}", content, compress=False)  # images are compressed already
                files += 1
            manifest = _manifest(call, data, writer.files)
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Exported(path, call_id, {name: len(rows) for name, rows in data.items()}, files)


def _gather(call_id: int) -> dict[str, list[dict]]:
    """Every row of the call, the audit trail of those rows, the people and departments they name."""
    from contest.permissions import running_departments

    tables = _tables()
    where = _selections(call_id)
    data = {t.name: _rows(t, where[t.name]) for t in owned_tables()}
    salt = secrets.token_bytes(16)
    for name, column in PSEUDONYMISED:
        for row in data.get(name, []):
            if row[column]:
                row[column] = "pseudonym-" + hashlib.sha256(salt + row[column].encode()).hexdigest()[:16]
    audit = tables["audit_event"]
    about = [and_(audit.c.target_type == t.name, audit.c.target_id.in_(select(t.c.id).where(where[t.name])))
             for t in owned_tables() if "id" in t.c]
    data["audit_event"] = _rows(audit, or_(*about))
    # The organisers of the call's departments: restored, they can run the call on the new site.
    members = tables["department_member"]
    data["department_member"] = _rows(members, members.c.department_id.in_(running_departments(call_id)))

    people, places = set(), set()
    for name, rows in data.items():
        for fk in tables[name].foreign_keys:
            into = {"user": people, "department": places}.get(fk.column.table.name)
            if into is not None:
                into.update(row[fk.parent.name] for row in rows if row[fk.parent.name] is not None)
    data["user"] = [{k: v for k, v in row.items() if k not in USER_WITHHELD}
                    for row in _rows_by_id(tables["user"], people)]
    data["department"] = _departments(places)
    return data


def _departments(ids: set[int]) -> list[dict]:
    """The departments with every department above them, each with its path of names from the top."""
    table = _tables()["department"]
    known: dict[int, dict] = {}
    wanted = set(ids)
    while wanted:
        rows = _rows_by_id(table, wanted)
        known.update((row["id"], row) for row in rows)
        wanted = {row["parent_id"] for row in rows if row["parent_id"] is not None} - set(known)
    for row in known.values():
        path, node = [], row
        while node is not None:
            path.insert(0, node["name"])
            node = known.get(node["parent_id"])
        row["path"] = path
    return sorted(known.values(), key=lambda row: (len(row["path"]), row["id"]))


def _manifest(call, data: dict[str, list[dict]], files: list[dict]) -> dict:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with db.session.begin_nested():
            schema = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:  # a database made without the migrations (never in production) has no such table
        schema = None
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "schema": schema,
        "exported_at": utcnow().isoformat(),
        "call": {"id": call.id, "title": call.title, "created_at": call.created_at.isoformat()},
        "rows": {name: len(rows) for name, rows in data.items()},
        "tables": coverage(),
        "personal_data": ("The e-mail addresses, names, participant groups and languages of the accounts the "
                          "call's rows name are kept, so that a site restored from this archive works; password "
                          "hashes, sessions and API tokens are not. Network addresses of votes are pseudonyms."),
        "files": files,
    }


# Spreadsheets and public pages ---------------------------------------------------------------------

def _csv(columns: list[str], rows: Iterable[list]) -> str:
    from contest.tabular import csv_text

    return csv_text(columns, rows)


def _spreadsheets(call) -> dict[str, str]:
    """The call for people who read spreadsheets: names, never e-mail addresses or network addresses."""
    from sqlalchemy.orm import aliased

    from contest.console.exports import ENTRY_COLUMNS, FIGURE_COLUMNS, entry_rows, figure_rows
    from contest.models import Assignment, Comparison, Criterion, Entry, RoundMember, Score, Vote
    from contest.services import results as results_service

    sheets = {"entries.csv": _csv(ENTRY_COLUMNS, entry_rows(call)),
              "figures.csv": _csv(FIGURE_COLUMNS, figure_rows(call))}
    rounds = {r.id: r for r in call.rounds}
    criteria = list(db.session.scalars(select(Criterion).where(Criterion.round_id.in_(list(rounds)))
                                       .order_by(Criterion.round_id, Criterion.position)))
    scores = db.session.execute(
        select(Score, Assignment, RoundMember.name, Entry.title).join(Assignment, Score.assignment_id == Assignment.id)
        .join(RoundMember, RoundMember.id == Assignment.member_id).join(Entry, Entry.id == Assignment.entry_id)
        .where(Assignment.round_id.in_(list(rounds))).order_by(Assignment.round_id, Assignment.entry_id,
                                                               Assignment.member_id)).all()
    sheets["scores.csv"] = _csv(
        ["round_id", "round", "entry_id", "entry", "juror_id", "juror", "submitted_at", "recused_at",
         *[f"{c.name} ({c.weight}%)" for c in criteria], "note_to_organisers", "note_to_entrant"],
        ([a.round_id, rounds[a.round_id].title, a.entry_id, title, a.member_id, juror, s.submitted_at, a.recused_at,
          *[s.marks.get(str(c.id)) if c.round_id == a.round_id else None for c in criteria],
          s.note_to_organisers, s.note_to_entrant] for s, a, juror, title in scores))
    votes = db.session.execute(
        select(Vote, Entry.title).join(Entry, Entry.id == Vote.entry_id).where(Vote.round_id.in_(list(rounds)))
        .order_by(Vote.round_id, Vote.id)).all()
    sheets["votes.csv"] = _csv(
        ["round_id", "round", "entry_id", "entry", "voter_id", "created_at", "voided_at", "voided_reason"],
        ([v.round_id, rounds[v.round_id].title, v.entry_id, title, v.user_id, v.created_at, v.voided_at,
          v.voided_reason] for v, title in votes))
    left, right = aliased(Entry), aliased(Entry)
    pairs = db.session.execute(
        select(Comparison, left.title, right.title).join(left, left.id == Comparison.left_id)
        .join(right, right.id == Comparison.right_id).where(Comparison.round_id.in_(list(rounds)))
        .order_by(Comparison.round_id, Comparison.id)).all()
    sheets["comparisons.csv"] = _csv(
        ["round_id", "round", "left_id", "left", "right_id", "right", "winner_id", "voter_id", "created_at",
         "voided_at", "voided_reason"],
        ([c.round_id, rounds[c.round_id].title, c.left_id, left_title, c.right_id, right_title, c.winner_id,
          c.user_id, c.created_at, c.voided_at, c.voided_reason] for c, left_title, right_title in pairs))
    if call.results_published_at is not None:
        sheets["results.csv"] = results_service.export_csv(call)
    return sheets


def _public(call) -> dict[str, bytes | str]:
    """What the public saw: the published results and the timeline as JSON, and the call's pages as HTML."""
    from contest.services import calls as call_service
    from contest.services import results as results_service

    out: dict[str, bytes | str] = {"timeline.json": json.dumps(
        [{"at": item.at.isoformat(), "kind": item.kind, "detail": item.detail}
         for item in call_service.timeline(call)], ensure_ascii=False, indent=1)}
    if call.results_published_at is not None:
        out["results.json"] = results_service.export_json(call)
    if call.published_at is None:
        return out
    pages = {"call.html": f"/calls/{call.id}", "follow-up.html": f"/calls/{call.id}/follow-up"}
    if call.results_published_at is not None:
        pages["results.html"] = f"/calls/{call.id}/results"
    for language in current_app.config["LANGUAGES"]:
        for name, url in pages.items():
            page = _render(url, language)
            if page is not None:
                out[f"{language}/{name}"] = page
    return out


def _render(url: str, language: str) -> bytes | None:
    """A page as an anonymous visitor saw it: the site's answer to a GET of `url` at its configured address
    (BASE_URL, so that the page's links are the ones the public followed), in that visitor's language.

    Why a request, when the rest of the archive needs none: these pages are the answers of public routes (their
    404 for what is not public, their read of the call), and base.html is written for a request (the language
    switch links back to request.full_path, the menu marks request.endpoint, current_user decides the menu).
    Rendering the templates without one would copy the routes' reads and fake those objects; asking the site
    itself, through its whole WSGI stack, keeps one page for the visitor and for the archive. The request runs in
    a context of its own, so that it has its own database session, as a visitor's would.
    """
    app = current_app._get_current_object()
    cookie = app.session_interface.get_signing_serializer(app).dumps({"lang": language})  # the language chosen
    environ = EnvironBuilder(path=url, base_url=app.config["BASE_URL"],
                             headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}).get_environ()
    response = contextvars.Context().run(Response.from_app, app.wsgi_app, environ, buffered=True)
    try:
        return response.get_data() if response.status_code == 200 else None
    finally:
        response.close()


# Import -------------------------------------------------------------------------------------------

@dataclass
class Imported:
    call_id: int
    rows: dict[str, int]  # table -> rows inserted
    ids: dict[str, dict[int, int]]  # table -> {id in the archive: id here}
    kept_ids: list[str]  # tables whose ids stayed as they were
    users_created: int = 0
    users_matched: int = 0
    departments_created: int = 0
    files: int = 0
    written: list[str] = field(default_factory=list)

    @property
    def renumbered(self) -> list[str]:
        """The tables whose rows got new ids here (theirs were taken); matched rows aside."""
        return sorted(name for name, ids in self.ids.items()
                      if name not in self.kept_ids and name not in SHARED and ids)


def import_call(path: str | os.PathLike) -> Imported:
    """Restore a call from its archive into this site, in the session's transaction (the caller commits; on a
    rollback the files written are deleted again). Every file is checked against the manifest first."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ArchiveError(f"{path} is not a call archive: {error}") from None
    with archive:
        reader = _Reader(archive)
        data = {name: json.loads(reader.read(f"data/{name}.json")) for name in reader.data_tables()}
        _check_schema(data)
        _check_conflicts(reader, data)
        return _restore(reader, data)


class _Reader:
    """An archive whose every file was checked against the manifest (and which holds nothing else)."""

    def __init__(self, archive: zipfile.ZipFile):
        try:
            manifest = json.loads(archive.read(MANIFEST))
        except (KeyError, ValueError):
            raise ArchiveError("The archive has no readable manifest.json.") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError("This is not a call archive of this site.")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(f"The archive has format version {manifest.get('format_version')}; this site "
                               f"reads version {FORMAT_VERSION}.")
        self.archive, self.manifest = archive, manifest
        try:
            self.listed = {f["path"]: {"bytes": int(f["bytes"]), "sha256": str(f["sha256"])} for f in manifest["files"]}
        except (KeyError, TypeError, ValueError):
            raise ArchiveError("The archive's manifest does not list its files in the expected form.") from None
        names = archive.namelist()
        if len(names) != len(set(names)):
            raise ArchiveError("The archive holds a file twice.")
        odd = (set(names) - {MANIFEST}) ^ set(self.listed)
        if odd:
            raise ArchiveError("The archive's files differ from its manifest: " + ", ".join(sorted(odd)[:5]))
        for path in self.listed:
            self.read(path, keep=False)

    def read(self, path: str, keep: bool = True) -> bytes:
        """A file of the archive, checked against its size and SHA-256 in the manifest as it is read."""
        entry = self.listed.get(path)
        if entry is None:
            raise ArchiveError(f"The manifest does not list {path}.")
        if self.archive.getinfo(path).file_size != entry["bytes"]:
            raise ArchiveError(f"{path} does not have the size the manifest gives: the archive was changed.")
        digest, chunks, size = hashlib.sha256(), [], 0
        with self.archive.open(path) as stream:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > entry["bytes"]:
                    break
                digest.update(chunk)
                if keep:
                    chunks.append(chunk)
        if size != entry["bytes"] or digest.hexdigest() != entry["sha256"]:
            raise ArchiveError(f"{path} does not match its SHA-256 in the manifest: the archive was changed.")
        return b"".join(chunks)

    def data_tables(self) -> list[str]:
        return [path[len("data/"):-len(".json")] for path in self.listed
                if path.startswith("data/") and path.endswith(".json")]

    def files(self) -> set[str]:
        return {path[len("files/"):] for path in self.listed if path.startswith("files/")}


def _check_schema(data: dict[str, list[dict]]) -> None:
    tables = _tables()
    allowed = {t.name for t in owned_tables()} | set(SHARED) | set(BY_TARGET)
    for name, rows in data.items():
        if name not in allowed:
            raise ArchiveError(f"The archive holds table {name}, which this site does not know.")
        extra = {"path"} if name == "department" else set()
        unknown = {k for row in rows for k in row} - set(tables[name].c.keys()) - extra
        if unknown:
            raise ArchiveError(f"The archive's {name} rows have columns this site does not know: "
                               f"{', '.join(sorted(unknown))}.")
    if len(data.get(ROOT, [])) != 1:
        raise ArchiveError("The archive does not hold exactly one call.")


def _check_conflicts(reader: _Reader, data: dict[str, list[dict]]) -> None:
    """Refuse what would clash: the same call, a stored file's key, a poster's printed code."""
    from contest.models import Call, ImageFile, Poster

    call = _load(_tables()[ROOT], data[ROOT][0])
    same = db.session.scalar(select(Call.id).where(Call.title == call["title"], Call.created_at == call["created_at"]))
    if same is not None:
        raise ArchiveError(f"This call is already on this site (call {same}); nothing was imported.")
    keys = [row["key"] for row in data.get("image_file", [])]
    for key in keys:
        try:
            check_key(key)
        except StorageError:
            raise ArchiveError(f"The archive names a file {key!r}, which is not a storage key.") from None
    for chunk in _chunks(keys):
        taken = db.session.scalar(select(ImageFile.key).where(ImageFile.key.in_(chunk)).limit(1))
        if taken is not None:
            raise ArchiveError(f"A file of this archive is already stored on this site ({taken}); nothing was "
                               "imported.")
    codes = [row["code"] for row in data.get("poster", [])]
    for chunk in _chunks(codes):
        taken = db.session.scalar(select(Poster.code).where(Poster.code.in_(chunk)).limit(1))
        if taken is not None:
            raise ArchiveError(f"A poster of this site already has the code {taken} printed on a poster of this "
                               "archive; nothing was imported.")
    if reader.files() != set(keys):
        raise ArchiveError("The archive's files do not match its image rows.")


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _restore(reader: _Reader, data: dict[str, list[dict]]) -> Imported:
    from contest.services.media import WRITTEN

    tables = _tables()
    ids: dict[str, dict[int, int]] = {}
    kept: list[str] = []
    result = Imported(0, {}, ids, kept)
    _restore_departments(data.get("department", []), ids, kept, result)
    _restore_users(data.get("user", []), ids, kept, result)
    order = [t for t in owned_tables() if t.name in data] + [tables[name] for name in BY_TARGET if name in data]
    for table in order:
        if "id" in table.c:
            ids[table.name] = _allocate(table, [row["id"] for row in data[table.name]], kept)

    # The files first, through the storage interface; the session deletes them again if it is rolled back.
    backend = storage()
    written = db.session.info.setdefault(WRITTEN, [])
    types = {row["key"]: row["content_type"] for row in data.get("image_file", [])}
    for key, content_type in types.items():
        content = reader.read(f"files/{key}")
        try:
            backend.put(key, content, content_type)
        except StorageError as error:
            raise ArchiveError(f"The file {key} could not be stored: {error}") from None
        written.append((backend.name, key))
        result.written.append(key)
    result.files = len(types)

    remaps = _json_remaps(ids, data)
    for table in order:
        rows = [_translate(table, row, ids, remaps) for row in data[table.name]]
        if table.name == "image_file":
            for row in rows:
                row["backend"] = backend.name
        _insert(table, rows)
        result.rows[table.name] = len(rows)
    _restore_members(data.get("department_member", []), ids, result)
    _advance_sequences(kept)
    db.session.flush()
    result.call_id = ids[ROOT][data[ROOT][0]["id"]]
    return result


def _allocate(table: Table, old: list[int], kept: list[str]) -> dict[int, int]:
    """Ids for a table's rows: their own when none is taken here, else new ones in the same order."""
    if not old:
        return {}
    taken = any(db.session.scalar(select(func.count()).select_from(table).where(table.c.id.in_(chunk)))
                for chunk in _chunks(sorted(old)))
    if not taken:
        kept.append(table.name)
        return {i: i for i in old}
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        new = sorted(db.session.scalars(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                                             "FROM generate_series(1, :n)"),
                                        {"t": _quoted(table.name), "n": len(old)}))
    else:
        start = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
        new = list(range(start, start + len(old)))
    return dict(zip(sorted(old), new, strict=True))


def _quoted(name: str) -> str:
    return db.engine.dialect.identifier_preparer.quote(name)


def _advance_sequences(tables: list[str]) -> None:
    """Rows inserted with their own ids leave PostgreSQL's sequences behind: move them past the largest id."""
    if db.engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for name in set(tables):
        sequence = db.session.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": _quoted(name)})
        largest = db.session.scalar(text(f"SELECT max(id) FROM {_quoted(name)}"))
        last, called = db.session.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
        if largest is not None and largest > (last if called else last - 1):
            db.session.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": largest})


def _restore_departments(rows: list[dict], ids: dict, kept: list[str], result: Imported) -> None:
    """Departments matched by their path of names from the top of the tree; the missing ones are created."""
    from contest.models import Department

    table = _tables()["department"]
    mapping: dict[int, int] = {}
    missing = []
    for row in rows:  # parents come first: the rows are sorted by the length of their path
        parent = mapping.get(row["parent_id"]) if row["parent_id"] is not None else None
        if row["parent_id"] is not None and parent is None:
            missing.append(row)  # under a department created here: created too
            continue
        found = db.session.scalar(select(Department.id).where(
            Department.name == row["name"],
            Department.parent_id == parent if parent is not None else Department.parent_id.is_(None))
            .order_by(Department.id).limit(1))
        if found is None:
            missing.append(row)
        else:
            mapping[row["id"]] = found
    new = _allocate(table, [row["id"] for row in missing], kept)
    mapping.update(new)
    for row in missing:
        values = _load(table, {k: v for k, v in row.items() if k != "path"})
        values["id"], values["parent_id"] = new[row["id"]], mapping.get(row["parent_id"])
        db.session.execute(table.insert(), values)
    result.departments_created = len(missing)
    ids["department"] = mapping


def _restore_users(rows: list[dict], ids: dict, kept: list[str], result: Imported) -> None:
    """People matched by e-mail; the others are created with a password nobody knows (they reset it by mail)."""
    from contest.models import User

    table = _tables()["user"]
    mapping: dict[int, int] = {}
    missing = []
    for chunk in _chunks(rows):
        found = dict(db.session.execute(select(func.lower(User.email), User.id).where(
            func.lower(User.email).in_([row["email"].lower() for row in chunk]))).all())
        for row in chunk:
            if row["email"].lower() in found:
                mapping[row["id"]] = found[row["email"].lower()]
            else:
                missing.append(row)
    new = _allocate(table, [row["id"] for row in missing], kept)
    mapping.update(new)
    values = []
    for row in missing:
        value = _load(table, row)
        # Not a hash of any password ("!" never starts one): no login until the owner resets it by e-mail.
        value.update(id=new[row["id"]], password_hash="!" + secrets.token_hex(16), is_admin=False)
        values.append(value)
    _insert(table, values)
    result.users_created, result.users_matched = len(missing), len(rows) - len(missing)
    ids["user"] = mapping


def _restore_members(rows: list[dict], ids: dict, result: Imported) -> None:
    from contest.models import DepartmentMember

    table = _tables()["department_member"]
    added = []
    for row in rows:
        values = _load(table, row)
        values["department_id"] = ids["department"][row["department_id"]]
        values["user_id"] = ids["user"][row["user_id"]]
        if db.session.get(DepartmentMember, (values["department_id"], values["user_id"])) is None:
            added.append(values)
    _insert(table, added)
    result.rows["department_member"] = len(added)


def _insert(table: Table, rows: list[dict]) -> None:
    """Insert rows as they are; a key to the same table (an entry merged into another) is set once all exist."""
    if not rows:
        return
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    later = [(row["id"], {name: row[name] for name in own}) for row in rows if any(row.get(n) for n in own)]
    if own:
        rows = [{**row, **dict.fromkeys(own)} for row in rows]
    for chunk in _chunks(rows, 1000):
        db.session.execute(table.insert(), chunk)
    for row_id, values in later:
        db.session.execute(table.update().where(table.c.id == row_id).values(**values))


def _translate(table: Table, row: dict, ids: dict[str, dict[int, int]], remaps: dict) -> dict:
    """A row of the archive with the ids of this site: its own, its keys and the ids inside its JSON."""
    values = _load(table, row)
    if "id" in table.c and table.name in ids:
        values["id"] = ids[table.name][row["id"]]
    for fk in table.foreign_keys:
        value = row.get(fk.parent.name)
        if value is None:
            continue
        target = fk.column.table.name
        if value not in ids.get(target, {}):
            raise ArchiveError(f"A row of {table.name} refers to {target} {value}, which the archive lacks.")
        values[fk.parent.name] = ids[target][value]
    for (name, column), remap in remaps.items():
        if name == table.name and values.get(column) is not None:
            try:
                values[column] = remap(values[column], row)
            except (KeyError, ValueError, TypeError) as error:
                raise ArchiveError(f"The ids in {table.name}.{column} of row {row.get('id')} do not match the "
                                   f"archive's rows ({error!r}).") from None
    if table.name == "audit_event" and values.get("target_id") is not None:
        values["target_id"] = ids.get(values["target_type"], {}).get(values["target_id"])
    return values


def _json_remaps(ids: dict[str, dict[int, int]], data: dict) -> dict[tuple[str, str], Callable]:
    from contest.services.results import remap_snapshot

    def one(table: str, value):
        return ids.get(table, {}).get(value) if isinstance(value, int) else value

    def detail(known: dict[str, str]):
        def remap(value: dict, row: dict) -> dict:
            out = {}
            for key, item in value.items():
                if key in known and isinstance(item, list):
                    item = [one(known[key], i) for i in item]
                elif key in known:
                    item = one(known[key], item)
                elif key == "awards" and isinstance(item, dict):
                    item = {str(one("entry", int(e))): one("prize", p) for e, p in item.items()}
                elif key == "ids" and row.get("target_type") == "round":
                    item = [one(_ballots_of(row["target_id"], data), i) for i in item]
                out[key] = item
            return out
        return remap

    return {
        ("call", "results_snapshot"): lambda snap, row: remap_snapshot(
            snap, ids.get("entry", {}), ids.get("round", {}), ids.get("criterion", {})),
        ("score", "marks"): lambda marks, row: {str(ids["criterion"][int(k)]): v for k, v in marks.items()},
        ("call_event", "detail"): detail(EVENT_DETAIL_IDS),
        ("audit_event", "detail"): detail(AUDIT_DETAIL_IDS),
    }


def _ballots_of(round_id: int, data: dict) -> str:
    """The table of the ballots a round's event names: comparisons in a pairwise round, else votes."""
    round_ = next((r for r in data.get("round", []) if r["id"] == round_id), None)
    return "comparison" if round_ is not None and round_["public_mode"] == "pairwise" else "vote"
