"""The ranking with every part of each score, for the organisers: as CSV, XLSX and JSON."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from contest.extensions import db
from contest.models import (
    Call,
    Entry,
)
from contest.services.results.awards import awards_of
from contest.services.results.publication import objections_of
from contest.services.results.ranking import compute, snapshot
from contest.snapshot import Place, Snapshot
from contest.tabular import Sheet, csv_dicts_text, dict_rows

EXPORT_COLUMNS = ["rank", "entry_id", "title", "author", "finalist", "out_in", "combined", "expert_score",
                  "expert_rank", "expert_rank_low", "expert_rank_high", "jurors", "public_score", "public_rank",
                  "prize"]


def export_rows(call: Call) -> tuple[Snapshot, list[dict]]:
    """The ranking with every part of each score, for the organisers (the snapshot once published)."""
    snap = snapshot(call) or compute(call)
    entries = {e.id: e for e in db.session.scalars(select(Entry).where(Entry.call_id == call.id)
                                                   .options(selectinload(Entry.author)))}
    awards = awards_of(call)
    criteria = next((r.criteria for r in reversed(snap.rounds) if r.is_expert), [])
    rows = []
    for row in snap.rows:
        entry, expert, public = entries.get(row.entry), row.expert or Place(), row.public or Place()
        out = {"rank": row.rank, "entry_id": row.entry, "title": entry.title if entry else "",
               "author": entry.byline if entry else "", "finalist": row.finalist, "out_in": row.out_in or "",
               "combined": row.value, "expert_score": expert.score, "expert_rank": expert.rank,
               "expert_rank_low": expert.low, "expert_rank_high": expert.high,
               "jurors": expert.jurors, "public_score": public.score,
               "public_rank": public.rank,
               "prize": awards[row.entry].prize.name if row.entry in awards else ""}
        for criterion in criteria:
            out[f"criterion:{criterion.name}"] = (expert.criteria or {}).get(str(criterion.id))
        rows.append(out)
    return snap, rows


def export_csv(call: Call) -> str:
    """The ranking as CSV (contest.tabular: formulas escaped, with a byte-order mark)."""
    _snap, rows = export_rows(call)
    return csv_dicts_text(list(rows[0]) if rows else EXPORT_COLUMNS, rows)


OBJECTION_COLUMNS = ["objection_id", "filed_at", "entry_id", "reason", "answer", "answer_en", "answered_at"]


def export_sheets(call: Call, names: tuple[str, str]) -> list[Sheet]:
    """The ranking (the same rows as the CSV) and the objections with their answers, as the sheets of an .xlsx
    (`names`: the two tabs' names in the reader's language). Objections carry no author."""
    _snap, rows = export_rows(call)
    columns = list(rows[0]) if rows else EXPORT_COLUMNS
    objections = [[o.id, o.created_at, o.entry_id, o.reason, o.answer, o.answer_en or "", o.answered_at]
                  for o in objections_of(call)]
    return [Sheet(names[0], columns, dict_rows(columns, rows)), Sheet(names[1], OBJECTION_COLUMNS, objections)]


def export_json(call: Call) -> str:
    snap, rows = export_rows(call)
    return json.dumps({"call": {"id": call.id, "title": call.both("title")},
                       "published_at": call.results_published_at.isoformat() if call.results_published_at else None,
                       "final_at": call.results_final_at.isoformat() if call.results_final_at else None,
                       "formula": snap.formula.to_json(), "rounds": [r.to_json() for r in snap.rounds],
                       "figures": snap.figures.to_json(),
                       "ranking": rows, "award_statement": call.both("award_statement")}, ensure_ascii=False, indent=1)
