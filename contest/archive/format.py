"""The archive as a file: its format and version, its README, the manifest every file is checked against as it
is written and read, and the table rows as JSON values."""
from __future__ import annotations

import enum
import hashlib
import json
import zipfile
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Enum, Table

from contest.models.types import UTCDateTime

FORMAT = "contest-call-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

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


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


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

    def add_pieces(self, path: str, pieces: Iterable[bytes | str]) -> None:
        """A file written as its pieces come (a CSV or JSON made row by row), never whole in memory."""
        digest, size = hashlib.sha256(), 0
        with self.archive.open(path, "w", force_zip64=True) as stream:
            for piece in pieces:
                data = piece.encode() if isinstance(piece, str) else piece
                digest.update(data)
                size += len(data)
                stream.write(data)
        self.files.append({"path": path, "sha256": digest.hexdigest(), "bytes": size})

    def json_rows(self, path: str, rows: Iterable[dict]) -> int:
        """A JSON array written one row (one line) at a time; returns how many rows."""
        count = 0

        def pieces():
            nonlocal count
            yield "["
            for row in rows:
                yield ("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False)
                count += 1
            yield "\n]\n" if count else "]\n"

        self.add_pieces(path, pieces())
        return count



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

