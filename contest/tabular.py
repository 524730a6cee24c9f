"""The one writer of spreadsheets (CSV and XLSX): every export of the site and every sheet of a call's archive
goes through it, so that each gets the same escaping and the same headers. The same rows feed both formats.

- A cell of text that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
  return, as OWASP lists them) is written with a leading apostrophe, so that it shows as the text it is.
  Numbers, dates and enums are our own values and are written as they are (a negative score stays a number).
- The file is UTF-8 with a byte-order mark, so that Excel reads the Chinese right.
- A CSV is made in pieces of a few hundred rows (`csv_chunks`) from rows read as they come (a generator over a
  server-side cursor), and a download sends each piece as it is made: memory stays flat whatever the size.
- An .xlsx is written row by row (XlsxWriter's constant_memory mode, through a temporary file), so that a
  city-size call does not fill memory: one sheet per table, the header row in the reader's language, column
  widths set from the header and the first rows, numbers as numbers, date-times as dates in the site's zone
  (naive in the cell, as Excel needs), text through `cell` (the same formula escaping as the CSV).
- A download is an attachment, never cached (`no-store`: names and scores), and never sniffed as another type.
"""
from __future__ import annotations

import csv
import enum
import io
import itertools
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from flask import Response, send_file, stream_with_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDTH_SAMPLE = 200  # the first rows that set a column's width (the rest are written as they come)
MAX_WIDTH = 60
CSV_PIECE = 500  # rows in one piece of a CSV written as it comes

# The header of each column in the reader's language (the CSV keeps the keys, which scripts read); a key not
# here (a criterion's name after "criterion:") is shown as it is.
HEADINGS = {
    "entry_id": _l("Entry"), "created_at": _l("Submitted at"), "status": _l("Status"), "channel": _l("Channel"),
    "title": _l("Title"), "topic": _l("Topic"), "theme": _l("Theme"), "place": _l("Place"),
    "meeting_id": _l("Meeting"), "poster_id": _l("Poster"), "merged_into_id": _l("Merged into"),
    "author": _l("Author"), "group": _l("Group"), "moderated_at": _l("Moderated at"),
    "rejection_reason": _l("Reason for rejection"), "measure": _l("Measure"), "key": _l("Key"),
    "count": _l("Count"), "rank": _l("Rank"), "finalist": _l("Finalist"), "out_in": _l("Out or in"),
    "combined": _l("Combined score"), "expert_score": _l("Jury score"), "expert_rank": _l("Jury rank"),
    "expert_rank_low": _l("Jury rank (best case)"), "expert_rank_high": _l("Jury rank (worst case)"),
    "jurors": _l("Jurors"), "public_score": _l("Public score"), "public_rank": _l("Public rank"),
    "prize": _l("Prize"), "objection_id": _l("Objection"), "reason": _l("Reason"), "answer": _l("Answer"),
    "filed_at": _l("Filed at"), "answered_at": _l("Answered at"), "ballot_id": _l("Ballot"),
    "round_id": _l("Round number"), "round": _l("Round"), "cast_at": _l("Cast at"), "counted": _l("Counted"),
    "voided_at": _l("Voided at"), "voided_reason": _l("Why it was voided"),
    "held_at": _l("Held at"), "kind": _l("Kind"), "venue": _l("Venue"), "attendees": _l("Attendees"),
    "organisations": _l("Organisations"), "suggestions": _l("Suggestions"), "stage": _l("Stage"),
    "progress": _l("Progress (%)"), "adopted_at": _l("Adopted at"), "updated_at": _l("Updated at"),
    "happened_on": _l("Happened on"), "text": _l("Text"),
}


@dataclass
class Sheet:
    """One table of a spreadsheet: its name (a tab of the .xlsx), its column keys and its rows (any iterable:
    a generator is read once, row by row)."""
    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence]


def heading(column: str) -> str:
    if column in HEADINGS:
        return str(HEADINGS[column])
    if column.endswith("_en") and column[:-3] in HEADINGS:  # a department's text in English, beside its Chinese
        return gettext("%(heading)s in English", heading=HEADINGS[column[:-3]])
    return column.split(":", 1)[1] if ":" in column else column


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


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The sheet as CSV text in pieces: the byte-order mark and the header, then CSV_PIECE rows at a time, each
    cell (the header's too) through `cell`. Rows are read as the pieces are asked for."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell(c) for c in columns])
    yield BOM + buffer.getvalue()
    rows = iter(rows)
    while piece := list(itertools.islice(rows, CSV_PIECE)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([cell(v) for v in row] for row in piece)
        yield buffer.getvalue()


def csv_text(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The sheet as CSV text, with its byte-order mark (for a sheet known to be small)."""
    return "".join(csv_chunks(columns, rows))


def csv_dicts_text(columns: Sequence[str], rows: Iterable[dict]) -> str:
    """The same, for rows given as dicts keyed by the columns (a missing key is an empty cell)."""
    return csv_text(columns, dict_rows(columns, rows))


def dict_rows(columns: Sequence[str], rows: Iterable[dict]) -> Iterable[list]:
    """Rows given as dicts keyed by the columns as lists (a missing key is an empty cell)."""
    return ([row.get(c) for c in columns] for row in rows)


def _text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _width(value) -> int:
    if isinstance(value, datetime):
        return 17
    if isinstance(value, date):
        return 11
    return _text_width(cell(value))


def xlsx_file(sheets: Sequence[Sheet], zone=None):
    """The sheets as an .xlsx in a temporary file (opened, at its start): written row by row, so that memory
    stays flat however many rows come. `zone` is where date-times are shown (the site's by default)."""
    import xlsxwriter

    if zone is None:
        from contest.localtime import site_zone
        zone = site_zone()
    output = tempfile.TemporaryFile()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False,
                                            "nan_inf_to_errors": True})
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for sheet in sheets:
        worksheet = workbook.add_worksheet(sheet.name[:31])
        rows = iter(sheet.rows)
        first = list(itertools.islice(rows, WIDTH_SAMPLE))
        headers = [heading(c) for c in sheet.columns]
        for col, header in enumerate(headers):  # widths before any row: constant_memory writes rows at once
            widest = max([_text_width(header)] + [_width(r[col]) for r in first if col < len(r)])
            worksheet.set_column(col, col, min(MAX_WIDTH, widest + 2))
        worksheet.freeze_panes(1, 0)
        worksheet.write_row(0, 0, headers, bold)
        for number, row in enumerate(itertools.chain(first, rows), start=1):
            for col, value in enumerate(row):
                _write(worksheet, number, col, value, zone, moment, day)
    workbook.close()
    output.seek(0)
    return output


def _write(worksheet, row: int, col: int, value, zone, moment, day) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        worksheet.write_boolean(row, col, value)
    elif isinstance(value, int | float | Decimal):
        worksheet.write_number(row, col, value)
    elif isinstance(value, datetime):
        local = value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
        worksheet.write_datetime(row, col, local, moment)
    elif isinstance(value, date):
        worksheet.write_datetime(row, col, datetime(value.year, value.month, value.day), day)
    else:
        worksheet.write_string(row, col, cell(value))


def xlsx_response(sheets: Sequence[Sheet], filename: str) -> Response:
    """The sheets as an .xlsx download, with the headers every export carries."""
    response = send_file(xlsx_file(sheets), mimetype=XLSX, as_attachment=True, download_name=filename,
                         max_age=0, conditional=False, etag=False)
    return _export_headers(response, filename)


def csv_response(columns: Sequence[str], rows: Iterable[Sequence], filename: str) -> Response:
    """The sheet as a CSV download sent as it is written (a streamed response): the rows are read while the
    answer goes out, inside the request's context, so a city-size export never sits whole in memory."""
    body = stream_with_context(piece.encode() for piece in csv_chunks(columns, rows))
    return _export_headers(Response(body, mimetype="text/csv"), filename)


def download(body: str, filename: str, mimetype: str = "text/csv") -> Response:
    """A file already made (a sheet by `csv_text`, a PDF document) as a download with the headers every export
    carries."""
    return _export_headers(Response(body, mimetype=mimetype), filename)


def _export_headers(response: Response, filename: str) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    response.headers["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                               f"filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
