"""A person's own data, as the Personal Information Protection Law lets them take it: their account and every
row that is theirs, as JSON, with the pictures of their entries, in one zip.

"Theirs" is one rule read off the schema, so a table added later is included without anyone remembering to:
every row whose `user_id` or `author_id` names the account (their entries, votes, comparisons, pairs shown,
vote allowances, objections, juror places and conflicts, department memberships, API tokens, mails), and the
rows that hang off those (a juror's assignments and scores). Secrets are never written out (password and token
hashes, session tokens), nor other people's data (who moderated an entry is the department's record)."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from enum import Enum

from sqlalchemy import Table, select

from contest.extensions import db
from contest.models import Assignment, Entry, EntryImage, ImageFile, RoundMember, Score, User
from contest.models.types import utcnow
from contest.storage import StorageError, storage

OWNER_COLUMNS = ("user_id", "author_id")  # a row is the person's own when one of these names them
SECRET_COLUMNS = {"password_hash", "session_token", "token_hash", "code_hash", "phone_key"}
FORMAT = "contest-personal-data/1"


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    return value


def _rows(table: Table, where) -> list[dict]:
    columns = [c for c in table.columns if c.name not in SECRET_COLUMNS]
    stmt = select(*columns).where(where).order_by(*table.primary_key.columns)
    return [{c.name: _value(v) for c, v in zip(columns, row, strict=True)} for row in db.session.execute(stmt)]


def owned_tables() -> list[tuple[Table, str]]:
    """Every table with a column naming its owner, with that column."""
    found = []
    for table in db.Model.metadata.sorted_tables:
        for name in OWNER_COLUMNS:
            column = table.columns.get(name)
            if column is not None and any(fk.column.table.name == "user" for fk in column.foreign_keys):
                found.append((table, name))
    return found


def personal_data(user: User) -> dict:
    """Everything that is the account's own, by table name (JSON-ready)."""
    account = _rows(User.__table__, User.__table__.c.id == user.id)
    data: dict = {"format": FORMAT, "made_at": utcnow().isoformat(), "account": account[0] if account else {}}
    for table, column in owned_tables():
        data[table.name] = _rows(table, table.columns[column] == user.id)
    # What hangs off their juror places: the entries they were given and the marks and notes they wrote.
    places = select(RoundMember.id).where(RoundMember.user_id == user.id)
    data["assignment"] = _rows(Assignment.__table__, Assignment.__table__.c.member_id.in_(places))
    given = select(Assignment.id).where(Assignment.member_id.in_(places))
    data["score"] = _rows(Score.__table__, Score.__table__.c.assignment_id.in_(given))
    return data


def _pictures(user: User) -> list[tuple[str, ImageFile]]:
    """The originals of the pictures of the person's entries, with a name for each in the zip."""
    rows = db.session.execute(
        select(EntryImage.entry_id, EntryImage.position, ImageFile)
        .join(Entry, Entry.id == EntryImage.entry_id)
        .join(ImageFile, ImageFile.image_id == EntryImage.image_id)
        .where(Entry.author_id == user.id, ImageFile.name == "original")
        .order_by(EntryImage.entry_id, EntryImage.position)).all()
    named = []
    for entry_id, position, file in rows:
        extension = file.key.rsplit(".", 1)[-1] if "." in file.key else "bin"
        named.append((f"pictures/entry-{entry_id}-{position + 1}.{extension}", file))
    return named


def data_archive(user: User) -> bytes:
    """The zip a person downloads: data.json, and their entries' pictures as they sent them."""
    buffer = io.BytesIO()
    data = personal_data(user)
    missing = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, file in _pictures(user):
            try:
                archive.writestr(name, storage(file.backend).get(file.key), compress_type=zipfile.ZIP_STORED)
            except StorageError:
                missing.append(name)  # said in the data, never a failed download
        data["pictures_missing"] = missing
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
    return buffer.getvalue()
