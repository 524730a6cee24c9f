"""Results of a call: the final formula, the final ranking, awards, publication into a notice period (公示期),
objections and their answers, making the results final, and each entrant's feedback.

The ranking is computed from the rounds (contest.formula does the arithmetic) into one typed snapshot
(contest.snapshot), computed once and stored (stored.py: its summary on the call, its rows by position, so a page
reads only what it shows). Before publication it is the organisers' preview, dropped when what it was computed
from changes; publishing freezes it, so the published page says exactly what was published, whatever happens to
the underlying tables later.
"""
from __future__ import annotations

from contest.services.results import jobs, stored
from contest.services.results.awards import awards_of, default_awards, set_awards
from contest.services.results.entrant_feedback import Feedback, RoundFeedback, feedback
from contest.services.results.exports import (
    EXPORT_COLUMNS,
    export_csv,
    export_json,
    export_rows,
    export_sheets,
    export_table,
)
from contest.services.results.publication import (
    NOTICE_DAYS,
    FeedbackLink,
    answer_objection,
    file_objection,
    final_refusal,
    finalise,
    in_notice_period,
    mail_queued,
    mailing,
    objections_of,
    publish,
    results_context,
    tell_notice_periods_over,
)
from contest.services.results.ranking import (
    BOOTSTRAP_SAMPLES,
    Formula,
    check_formula,
    computation,
    compute,
    compute_queued,
    current,
    figures,
    remap_snapshot,
    retry,
    rounds_over,
    set_formula,
    snapshot,
)
from contest.services.results.stored import RESULTS_PAGE

__all__ = [
    "BOOTSTRAP_SAMPLES", "EXPORT_COLUMNS", "Feedback", "FeedbackLink", "Formula", "NOTICE_DAYS", "RoundFeedback",
    "answer_objection", "awards_of", "check_formula", "compute", "compute_queued", "computation",
    "current", "default_awards", "export_csv",
    "export_json", "export_rows", "export_table", "export_sheets", "feedback", "figures", "file_objection",
    "final_refusal", "finalise",
    "in_notice_period", "jobs", "mail_queued", "mailing", "objections_of", "retry", "RESULTS_PAGE",
    "publish", "remap_snapshot",
    "results_context", "rounds_over", "set_awards", "set_formula", "snapshot", "stored",
    "tell_notice_periods_over",
]
