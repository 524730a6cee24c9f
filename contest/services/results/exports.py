"""The ranking with every part of each score, for the organisers: as CSV, XLSX and JSON."""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, load_only

from contest.extensions import db
from contest.models import (
    Call,
    Entry,
    User,
)
from contest.services import ServiceError
from contest.services.results import stored
from contest.services.results.awards import awards_of
from contest.services.results.publication import objections_of
from contest.services.results.ranking import current
from contest.snapshot import Place, Row, Summary
from contest.tabular import Sheet, csv_chunks, dict_rows

EXPORT_COLUMNS = ["rank", "entry_id", "title", "author", "finalist", "out_in", "combined", "expert_score",
                  "expert_rank", "expert_rank_low", "expert_rank_high", "jurors", "public_score", "public_rank",
                  "prize"]
EXPORT_BATCH = 1000  # rows whose entries are read at once


def export_rows(call: Call) -> tuple[Summary, list[str], Iterator[dict]]:
    """The ranking with every part of each score, for the organisers (the stored snapshot: the published one, or
    the preview): its summary, the columns (a column per criterion of the last jury round) and the rows, read as
    they are written (constant memory at city size)."""
    snap = current(call)
    if snap is None:  # a large call's, being computed by the worker
        raise ServiceError(_("The results are being computed: download them once they are ready."))
    criteria = next((r.criteria for r in reversed(snap.rounds) if r.is_expert), [])
    columns = EXPORT_COLUMNS + [f"criterion:{c.name}" for c in criteria]
    awards = {entry_id: award.prize.name for entry_id, award in awards_of(call).items()}

    def rows() -> Iterator[dict]:
        batch: list[Row] = []
        for row in itertools.chain(stored.rows(call), [None]):
            if row is not None:
                batch.append(row)
            if batch and (row is None or len(batch) == EXPORT_BATCH):
                yield from _rows_of(batch, awards, criteria)
                batch = []

    return snap, columns, rows()


def _rows_of(batch: list[Row], awards: dict[int, str], criteria) -> Iterator[dict]:
    entries = {e.id: e for e in db.session.scalars(
        select(Entry).where(Entry.id.in_([r.entry for r in batch]))
        .options(load_only(Entry.id, Entry.title, Entry.author_name),
                 joinedload(Entry.author).load_only(User.display_name, User.deleted_at)))}
    for row in batch:
        entry, expert, public = entries.get(row.entry), row.expert or Place(), row.public or Place()
        out = {"rank": row.rank, "entry_id": row.entry, "title": entry.title if entry else "",
               "author": entry.byline if entry else "", "finalist": row.finalist, "out_in": row.out_in or "",
               "combined": row.value, "expert_score": expert.score, "expert_rank": expert.rank,
               "expert_rank_low": expert.low, "expert_rank_high": expert.high,
               "jurors": expert.jurors, "public_score": public.score,
               "public_rank": public.rank, "prize": awards.get(row.entry, "")}
        for criterion in criteria:
            out[f"criterion:{criterion.name}"] = (expert.criteria or {}).get(str(criterion.id))
        yield out


def export_csv(call: Call) -> Iterator[str]:
    """The ranking as CSV in pieces (contest.tabular: formulas escaped, with a byte-order mark)."""
    _snap, columns, rows = export_rows(call)
    return csv_chunks(columns, dict_rows(columns, rows))


def export_table(call: Call) -> tuple[list[str], Iterable[list]]:
    """The ranking's columns and rows (as lists), for a streamed CSV download."""
    _snap, columns, rows = export_rows(call)
    return columns, dict_rows(columns, rows)


OBJECTION_COLUMNS = ["objection_id", "filed_at", "entry_id", "reason", "answer", "answer_en", "answered_at"]


def export_sheets(call: Call, names: tuple[str, str]) -> list[Sheet]:
    """The ranking (the same rows as the CSV) and the objections with their answers, as the sheets of an .xlsx
    (`names`: the two tabs' names in the reader's language). Objections carry no author."""
    columns, rows = export_table(call)
    objections = [[o.id, o.created_at, o.entry_id, o.reason, o.answer, o.answer_en or "", o.answered_at]
                  for o in objections_of(call)]
    return [Sheet(names[0], columns, rows), Sheet(names[1], OBJECTION_COLUMNS, objections)]


def export_json(call: Call) -> Iterator[str]:
    """The ranking and how it was made as JSON, in pieces: the rows are written as they are read (the snapshot
    is found, or computed and stored, at once)."""
    snap, _columns, rows = export_rows(call)
    return _json_pieces(call, snap, rows)


def _json_pieces(call: Call, snap: Summary, rows: Iterator[dict]) -> Iterator[str]:
    head = json.dumps({"call": {"id": call.id, "title": call.both("title")},
                       "published_at": call.results_published_at.isoformat() if call.results_published_at else None,
                       "final_at": call.results_final_at.isoformat() if call.results_final_at else None,
                       "formula": snap.formula.to_json(), "rounds": [r.to_json() for r in snap.rounds],
                       "figures": snap.figures.to_json(), "award_statement": call.both("award_statement"),
                       "ranking": []}, ensure_ascii=False, indent=1)
    opening, closing = head.rsplit("[]", 1)
    yield opening + "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False)
    yield "\n ]" + closing
