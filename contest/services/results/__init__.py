"""Results of a call: the final formula, the final ranking, awards, publication into a notice period (公示期),
objections and their answers, making the results final, and each entrant's feedback.

The ranking is computed from the rounds (contest.formula does the arithmetic) into one typed snapshot
(contest.snapshot). The organiser previews it live; publishing freezes it on the call as JSON, so the published
page reads one row and says exactly what was published, whatever happens to the underlying tables later.
"""
from __future__ import annotations

from contest.services.results.awards import awards_of, default_awards, set_awards
from contest.services.results.entrant_feedback import Feedback, RoundFeedback, feedback
from contest.services.results.exports import EXPORT_COLUMNS, export_csv, export_json, export_rows, export_sheets
from contest.services.results.publication import (
    NOTICE_DAYS,
    FeedbackLink,
    answer_objection,
    file_objection,
    final_refusal,
    finalise,
    in_notice_period,
    objections_of,
    publish,
    results_context,
    tell_notice_periods_over,
)
from contest.services.results.ranking import (
    BOOTSTRAP_SAMPLES,
    RESULTS_PAGE,
    Formula,
    check_formula,
    compute,
    figures,
    page_of_rows,
    remap_snapshot,
    rounds_over,
    set_formula,
    shown_rows,
    snapshot,
)

__all__ = [
    "BOOTSTRAP_SAMPLES", "EXPORT_COLUMNS", "Feedback", "FeedbackLink", "Formula", "NOTICE_DAYS", "RoundFeedback",
    "answer_objection", "awards_of", "check_formula", "compute", "default_awards", "export_csv", "export_json",
    "export_rows", "export_sheets", "feedback", "figures", "file_objection", "final_refusal", "finalise",
    "in_notice_period", "objections_of", "page_of_rows", "RESULTS_PAGE", "publish", "remap_snapshot",
    "results_context", "rounds_over", "set_awards", "set_formula", "shown_rows", "snapshot",
    "tell_notice_periods_over",
]
