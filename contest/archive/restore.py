"""Restoring a call from its archive into a site: checked against the manifest and this site's schema, refused on
a clash, its people and departments matched, its ids kept or translated (the ones inside JSON columns too)."""
from __future__ import annotations

import json
import os
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Table, func, select

from contest.archive.belongs import BY_TARGET, ROOT, SHARED, _tables, owned_tables
from contest.archive.format import ArchiveError, _chunks, _load, _Reader
from contest.extensions import db
from contest.storage import StorageError, check_key, storage

# JSON columns holding ids, translated on import; the others hold none (a test keeps these lists complete).
JSON_WITH_IDS = (("call", "results_snapshot"), ("result_row", "data"), ("score", "marks"), ("call_event", "detail"),
                 ("audit_event", "detail"))
JSON_WITHOUT_IDS = (("call", "image_formats"), ("user", "mail_off"), ("round", "standing_tallies"))  # none: RECOUNTED
# Keys of the details that hold ids, by the table the ids are of; "awards" (entry -> prize) and "ids" (the
# ballots of a round: votes or comparisons) are translated by hand. Other keys hold no ids.
EVENT_DETAIL_IDS = {"entry_id": "entry", "round_id": "round"}
EVENT_DETAIL_PLAIN = ("days", "notice_ends", "round", "round_en", "advanced", "of", "entry", "stage", "from", "to",
                      "reason", "changed")
AUDIT_DETAIL_IDS = {"call_id": "call", "entry_id": "entry", "follow_up_id": "follow_up", "member_id": "round_member",
                    "objection_id": "objection", "meeting_id": "meeting", "into": "entry", "was_into": "entry",
                    "entry_ids": "entry", "advanced": "entry", "user_id": "user", "source_round_id": "round"}
AUDIT_DETAIL_PLAIN = ("images", "channel", "reason", "mode", "value", "added", "conflict", "reminded", "before",
                      "after", "first", "notice_days", "top_n", "departs", "statement", "title", "name", "label",
                      "stage", "progress", "photo", "kind", "held_at", "count", "told", "unanswered", "entries",
                      "changed")


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
    # Rows inserted as they are pass no session hook: the entries' words and bands are made here.
    from contest.services.search import index_entries

    index_entries(db.session.connection(), ids.get("entry", {}).values())
    result.call_id = ids[ROOT][data[ROOT][0]["id"]]
    from contest.services.counts import recount  # and counted (an archive made before the counts has none)

    recount(db.session.connection(), [result.call_id])
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
    from contest.snapshot import remap_row_record

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
        ("result_row", "data"): lambda data, row: remap_row_record(
            data, ids.get("entry", {}), ids.get("round", {}), ids.get("criterion", {})),
        ("score", "marks"): lambda marks, row: {str(ids["criterion"][int(k)]): v for k, v in marks.items()},
        ("call_event", "detail"): detail(EVENT_DETAIL_IDS),
        ("audit_event", "detail"): detail(AUDIT_DETAIL_IDS),
    }


def _ballots_of(round_id: int, data: dict) -> str:
    """The table of the ballots a round's event names: comparisons in a pairwise round, else votes."""
    round_ = next((r for r in data.get("round", []) if r["id"] == round_id), None)
    return "comparison" if round_ is not None and round_["public_mode"] == "pairwise" else "vote"
