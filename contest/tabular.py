"""The one writer of spreadsheets (CSV): every export of the site and every sheet of a call's archive goes
through it, so that each gets the same escaping and the same headers.

- A cell of text that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
  return, as OWASP lists them) is written with a leading apostrophe, so that it shows as the text it is.
  Numbers, dates and enums are our own values and are written as they are (a negative score stays a number).
- The file is UTF-8 with a byte-order mark, so that Excel reads the Chinese right.
- A download is an attachment, never cached (`no-store`: names and scores), and never sniffed as another type.
"""
from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def cell(value) -> str:
    """A value as the text of one cell; text a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        value = value.value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The sheet as CSV text, with its byte-order mark; every cell (the header's too) through `cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell(c) for c in columns])
    writer.writerows([cell(v) for v in row] for row in rows)
    return BOM + buffer.getvalue()


def csv_dicts_text(columns: Sequence[str], rows: Iterable[dict]) -> str:
    """The same, for rows given as dicts keyed by the columns (a missing key is an empty cell)."""
    return csv_text(columns, ([row.get(c) for c in columns] for row in rows))


def csv_response(columns: Sequence[str], rows: Iterable[Sequence], filename: str) -> Response:
    return download(csv_text(columns, rows), filename)


def download(body: str, filename: str, mimetype: str = "text/csv") -> Response:
    """A sheet (already made by `csv_text`) as a download with the headers every export carries."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                               f"filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
