"""Writing a call's archive: its rows (people's credentials withheld, network addresses pseudonymised), the
spreadsheets, every stored file, the manifest, and the public pages as an anonymous visitor saw them."""
from __future__ import annotations

import contextvars
import hashlib
import json
import os
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import Table, and_, or_, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from contest.archive.belongs import _selections, _tables, coverage, owned_tables
from contest.archive.format import FORMAT, FORMAT_VERSION, MANIFEST, README, ArchiveError, _chunks, _dump, _Writer
from contest.extensions import db
from contest.models.types import utcnow
from contest.storage import StorageError, storage

# Never exported: credentials and traces of using the site. Imported accounts cannot log in until their owner
# resets the password by e-mail; administrators are made on the new site with `create-admin`.
USER_WITHHELD = ("password_hash", "session_token", "last_login_at", "is_admin")
# The network addresses votes came from become pseudonyms, the same for the same address within one archive:
# the archive still shows many accounts voting from one place without saying where that was.
PSEUDONYMISED = (("vote", "address"), ("comparison", "address"))
# Counted again by the site that restores the call, not exported: a public round's tallies beside its standing
# name the network addresses many accounts voted from (standings.Tallies).
RECOUNTED = (("round", "standing_tallies"),)
STREAM_BATCH = 2000  # rows read at once from a server-side cursor


def _rows(table: Table, condition) -> list[dict]:
    order = list(table.primary_key.columns)
    return [_dump(table, r) for r in db.session.execute(select(table).where(condition).order_by(*order))]


def _rows_by_id(table: Table, ids: set[int]) -> list[dict]:
    return [row for chunk in _chunks(sorted(ids)) for row in _rows(table, table.c.id.in_(chunk))]


def _streamed(table: Table, condition) -> Iterator[dict]:
    """A table's rows of the call, read in batches from a server-side cursor (constant memory at city size)."""
    order = list(table.primary_key.columns)
    for row in db.session.execute(select(table).where(condition).order_by(*order)
                                  .execution_options(yield_per=STREAM_BATCH)):
        yield _dump(table, row)


def _streamed_by_id(table: Table, ids: set[int]) -> Iterator[dict]:
    for chunk in _chunks(sorted(ids)):
        yield from _streamed(table, table.c.id.in_(chunk))


@dataclass
class Exported:
    path: Path
    call_id: int
    rows: dict[str, int]  # table -> rows
    files: int


def export_call(call_id: int, output: str | os.PathLike) -> Exported:
    """Write the archive of a call to `output` (a zip; written beside it first, so no half archive is left).
    Every table and spreadsheet is written row by row as it is read, so memory stays flat at city size."""
    from contest.models import Call

    if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        # One snapshot of the database for the whole archive, even while the site keeps running.
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    call = db.session.get(Call, call_id)
    if call is None:
        raise ArchiveError(f"There is no call {call_id}.")
    path = Path(output)
    partial = path.with_name(path.name + ".part")
    files = 0
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            writer = _Writer(archive)
            writer.add("README.txt", README)
            counts, stored_files = _write_data(writer, call_id)
            for name, pieces in _spreadsheets(call).items():
                writer.add_pieces(f"spreadsheets/{name}", pieces)  # with its byte-order mark (contest.tabular)
            for name, content in _public(call).items():
                if isinstance(content, bytes | str):
                    writer.add(f"public/{name}", content)
                else:
                    writer.add_pieces(f"public/{name}", content)
            for backend, key in stored_files:
                try:
                    content = storage(backend).get(key)
                except StorageError as error:
                    raise ArchiveError(f"The file {key} could not be read: {error}") from None
                writer.add(f"files/{key}", content, compress=False)  # images are compressed already
                files += 1
            manifest = _manifest(call, counts, writer.files)
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Exported(path, call_id, counts, files)


def _write_data(writer: _Writer, call_id: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Write every row of the call, the audit trail of those rows, the people and departments they name, a file
    per table, row by row; return the rows per table and the stored files (backend, key) to copy."""
    from contest.permissions import running_departments

    tables = _tables()
    where = _selections(call_id)
    salt = secrets.token_bytes(16)
    people: set[int] = set()
    places: set[int] = set()
    stored_files: list[tuple[str, str]] = []
    counts: dict[str, int] = {}

    def noted(name: str, rows: Iterable[dict]) -> Iterator[dict]:
        """The rows as they go by, the people and departments they name noted, addresses pseudonymised."""
        keys = [(fk.parent.name, {"user": people, "department": places}.get(fk.column.table.name))
                for fk in tables[name].foreign_keys]
        keys = [(column, into) for column, into in keys if into is not None]
        pseudonymised = [column for table, column in PSEUDONYMISED if table == name]
        recounted = [column for table, column in RECOUNTED if table == name]
        for row in rows:
            for column in recounted:
                row[column] = None
            for column in pseudonymised:
                if row[column]:
                    row[column] = "pseudonym-" + hashlib.sha256(salt + row[column].encode()).hexdigest()[:16]
            for column, into in keys:
                if row[column] is not None:
                    into.add(row[column])
            if name == "image_file":
                stored_files.append((row["backend"], row["key"]))
            yield row

    def write(name: str, rows: Iterable[dict]) -> None:
        counts[name] = writer.json_rows(f"data/{name}.json", noted(name, rows))

    for table in owned_tables():
        write(table.name, _streamed(table, where[table.name]))
    audit = tables["audit_event"]
    about = [and_(audit.c.target_type == t.name, audit.c.target_id.in_(select(t.c.id).where(where[t.name])))
             for t in owned_tables() if "id" in t.c]
    write("audit_event", _streamed(audit, or_(*about)))
    # The organisers of the call's departments: restored, they can run the call on the new site.
    members = tables["department_member"]
    write("department_member", _streamed(members, members.c.department_id.in_(running_departments(call_id))))
    write("user", ({k: v for k, v in row.items() if k not in USER_WITHHELD}
                   for row in _streamed_by_id(tables["user"], set(people))))
    write("department", _departments(places))
    return counts, stored_files


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


def _manifest(call, counts: dict[str, int], files: list[dict]) -> dict:
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
        "rows": dict(counts),
        "tables": coverage(),
        "personal_data": ("The e-mail addresses, names, participant groups and languages of the accounts the "
                          "call's rows name are kept, so that a site restored from this archive works; password "
                          "hashes, sessions and API tokens are not. Network addresses of votes are pseudonyms."),
        "files": files,
    }


# Spreadsheets and public pages ---------------------------------------------------------------------

def _csv(columns: list[str], rows: Iterable[list]) -> Iterator[str]:
    from contest.tabular import csv_chunks

    return csv_chunks(columns, rows)


def _lazily(statement) -> Iterator:
    """The rows of a statement, read when the sheet is written (in batches from a server-side cursor)."""
    yield from db.session.execute(statement.execution_options(yield_per=STREAM_BATCH))


def _spreadsheets(call) -> dict[str, Iterator[str]]:
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
    scores = _lazily(
        select(Score, Assignment, RoundMember.name, Entry.title).join(Assignment, Score.assignment_id == Assignment.id)
        .join(RoundMember, RoundMember.id == Assignment.member_id).join(Entry, Entry.id == Assignment.entry_id)
        .where(Assignment.round_id.in_(list(rounds))).order_by(Assignment.round_id, Assignment.entry_id,
                                                               Assignment.member_id))
    sheets["scores.csv"] = _csv(
        ["round_id", "round", "entry_id", "entry", "juror_id", "juror", "submitted_at", "recused_at",
         *[f"{c.name} ({c.weight}%)" for c in criteria], "note_to_organisers", "note_to_entrant"],
        ([a.round_id, rounds[a.round_id].title, a.entry_id, title, a.member_id, juror, s.submitted_at, a.recused_at,
          *[s.marks.get(str(c.id)) if c.round_id == a.round_id else None for c in criteria],
          s.note_to_organisers, s.note_to_entrant] for s, a, juror, title in scores))
    votes = _lazily(
        select(Vote, Entry.title).join(Entry, Entry.id == Vote.entry_id).where(Vote.round_id.in_(list(rounds)))
        .order_by(Vote.round_id, Vote.id))
    sheets["votes.csv"] = _csv(
        ["round_id", "round", "entry_id", "entry", "voter_id", "created_at", "voided_at", "voided_reason"],
        ([v.round_id, rounds[v.round_id].title, v.entry_id, title, v.user_id, v.created_at, v.voided_at,
          v.voided_reason] for v, title in votes))
    left, right = aliased(Entry), aliased(Entry)
    pairs = _lazily(
        select(Comparison, left.title, right.title).join(left, left.id == Comparison.left_id)
        .join(right, right.id == Comparison.right_id).where(Comparison.round_id.in_(list(rounds)))
        .order_by(Comparison.round_id, Comparison.id))
    sheets["comparisons.csv"] = _csv(
        ["round_id", "round", "left_id", "left", "right_id", "right", "winner_id", "voter_id", "created_at",
         "voided_at", "voided_reason"],
        ([c.round_id, rounds[c.round_id].title, c.left_id, left_title, c.right_id, right_title, c.winner_id,
          c.user_id, c.created_at, c.voided_at, c.voided_reason] for c, left_title, right_title in pairs))
    if call.results_published_at is not None:
        sheets["results.csv"] = results_service.export_csv(call)
    return sheets


def _public(call) -> dict[str, bytes | str | Iterator[str]]:
    """What the public saw: the published results and the timeline as JSON, and the call's pages as HTML."""
    from contest.services import calls as call_service
    from contest.services import results as results_service

    out: dict[str, bytes | str | Iterator[str]] = {"timeline.json": json.dumps(
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

