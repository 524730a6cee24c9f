"""Public rounds: one person one voice, by votes or by "which do you prefer?" pairs, with an audit trail."""
from __future__ import annotations

from contest.services import ServiceError
from contest.services.public.integrity import (
    Burst,
    PairTrouble,
    ballot_total,
    bursts,
    pair_trouble,
    void,
    voided_summary,
)
from contest.services.public.pairs import (
    PAIR_MAX_AGE,
    PairAnswer,
    answer_pair,
    comparisons_made,
    next_pair,
    pairwise_scores,
)
from contest.services.public.settings import (
    Holding,
    NotEligible,
    NotFound,
    NotLoggedIn,
    PublicRoundData,
    _ballots,
    check_eligible,
    close_voting_now,
    create_public_round,
    entries_of,
    holding,
    open_public_round,
    page_of_round,
    removal_refused,
    remove_round,
    round_holding,
    update_public_round,
)
from contest.services.public.standings import (
    STANDINGS_PAGE,
    Standing,
    Tallies,
    forget_standing,
    refresh_open_standings,
    refresh_standing,
    standing_stale,
    standings,
    stored_standing,
    stored_tallies,
)
from contest.services.public.tallies import (
    HourCount,
    Opponent,
    ballots_per_hour,
    crowded_addresses,
    wins,
    wins_after_closing,
    wins_against,
)
from contest.services.public.votes import (
    ballots_for_export,
    cast_vote,
    cast_vote_as,
    counts_visible,
    my_votes,
    public_round,
    public_round_and_entry,
    take_back,
    vote_counts,
)

__all__ = [
    "Burst", "Holding", "HourCount", "NotEligible", "NotFound", "NotLoggedIn", "Opponent", "PAIR_MAX_AGE",
    "PairAnswer", "PairTrouble", "PublicRoundData", "STANDINGS_PAGE", "ServiceError", "Standing", "Tallies", "_ballots",
    "answer_pair", "ballot_total", "ballots_for_export", "ballots_per_hour", "bursts", "cast_vote", "cast_vote_as",
    "check_eligible", "close_voting_now", "comparisons_made", "counts_visible", "create_public_round",
    "crowded_addresses", "entries_of", "holding", "my_votes", "next_pair", "page_of_round",
    "open_public_round", "pair_trouble", "pairwise_scores", "public_round", "public_round_and_entry",
    "forget_standing", "refresh_open_standings", "refresh_standing", "standing_stale", "stored_standing",
    "stored_tallies",
    "removal_refused", "remove_round", "round_holding", "standings", "take_back", "update_public_round", "void",
    "voided_summary", "vote_counts", "wins", "wins_after_closing", "wins_against",
]
