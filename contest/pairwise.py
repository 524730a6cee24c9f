"""Public pairwise rounds: choose the next pair to show, fit Bradley-Terry strengths, turn them into scores."""
from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Outcome:
    """One citizen's answer to "which would you rather see?"."""

    left: int  # entry ids, in the order shown
    right: int
    winner: int | None  # left, right, or None for "can't decide"


def fit_bradley_terry(entry_ids: Sequence[int], outcomes: Iterable[Outcome], *, iterations: int = 500,
                      tolerance: float = 1e-9, prior: float = 0.5) -> dict[int, float]:
    """Bradley-Terry strengths, P(i beats j) = s_i / (s_i + s_j), by Hunter's MM algorithm.

    "Can't decide" counts as half a win for each side: the citizen looked at both and found them about
    equally good, which is evidence the two are close; dropping the answer would let the few decided
    answers set their gap alone.

    Each entry also gets `prior` virtual wins and `prior` virtual losses against a virtual average
    opponent: one whose strength is the geometric mean of the entries it is connected to by comparisons.
    That keeps an entry that never lost (or never won) finite, and makes the likelihood strictly concave
    in log-strength up to the one scale each connected group is free to take, so the fit has one answer
    and MM climbs to it. It shrinks every gap a little; a prior small next to an entry's number of
    comparisons changes little.

    Each connected group of entries is scaled to a geometric mean of 1; nothing ties the groups of a
    disconnected graph to one another, and "their average entries are equally good" is the neutral
    statement. Entries never compared get exactly 1. Outcomes naming an entry not in `entry_ids`
    (withdrawn, disqualified) are skipped; an outcome that compares an entry with itself or names a
    winner who was not shown is corrupt, and raises ValueError rather than tilting a published result.
    """
    if not (prior > 0 and math.isfinite(prior)):
        raise ValueError("the prior must be a positive number: without it an unbeaten entry has no finite strength")
    if iterations < 1:
        raise ValueError("the fit needs at least one iteration")
    ids = list(dict.fromkeys(entry_ids))
    n = len(ids)
    index = {entry: i for i, entry in enumerate(ids)}

    lows, highs, low_wins = [], [], []
    for outcome in outcomes:
        if outcome.left == outcome.right:
            raise ValueError(f"an outcome compares entry {outcome.left} with itself")
        if outcome.winner is not None and outcome.winner not in (outcome.left, outcome.right):
            raise ValueError(f"entry {outcome.winner} won a comparison of {outcome.left} and {outcome.right}")
        i, j = index.get(outcome.left), index.get(outcome.right)
        if i is None or j is None:
            continue
        left_won = 0.5 if outcome.winner is None else float(outcome.winner == outcome.left)
        # Stored with the lower index first, so (A, B) and (B, A) land on the same pair.
        if j < i:
            i, j, left_won = j, i, 1.0 - left_won
        lows.append(i)
        highs.append(j)
        low_wins.append(left_won)

    if not lows:
        return dict.fromkeys(ids, 1.0)
    # One row per distinct pair rather than an n x n matrix: the work per iteration follows the pairs
    # actually compared, and memory stays small however many entries a round has.
    keys, inverse = np.unique(np.asarray(lows) * n + np.asarray(highs), return_inverse=True)
    a, b = keys // n, keys % n
    games = np.bincount(inverse, minlength=len(keys)).astype(float)
    a_wins = np.bincount(inverse, weights=low_wins, minlength=len(keys))
    group = _groups(n, a, b)
    group_size = np.bincount(group, minlength=n)[group]
    # Real wins, the virtual win, and `prior` more from the average opponent's strength sitting in every
    # virtual answer (the log of a geometric mean is the mean of the logs: it splits over the group).
    numerator = np.bincount(a, a_wins, n) + np.bincount(b, games - a_wins, n) + 2 * prior

    strengths = np.ones(n)
    for _ in range(iterations):
        # Hunter's minorisation at the current strengths, whose groups have geometric mean 1: the real
        # games as in his paper, the virtual ones against an opponent of strength 1, and the opponent's own
        # strength bounded by the arithmetic mean of the ratios (AM-GM, equal at the current point).
        share = games / (strengths[a] + strengths[b])
        pull = 2 * prior / (strengths + 1)
        denominator = (np.bincount(a, share, n) + np.bincount(b, share, n) + pull
                       + np.bincount(group, pull, n)[group] / (group_size * strengths))
        updated = numerator / denominator
        # The likelihood does not change with a group's scale, so this costs the ascent nothing.
        updated /= np.exp(np.bincount(group, np.log(updated), n)[group] / group_size)
        change = np.max(np.abs(updated - strengths) / updated)
        strengths = updated
        if change <= tolerance:
            break
    return {entry: float(strengths[i]) for entry, i in index.items()}


def _groups(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each entry's connected group in the comparison graph, named by the smallest index in it."""
    labels = np.arange(n)
    while True:
        merged = labels.copy()
        np.minimum.at(merged, a, labels[b])
        np.minimum.at(merged, b, labels[a])
        # A label's own label is in the same group and no larger: jumping to it shortens long chains.
        merged = merged[merged]
        if np.array_equal(merged, labels):
            return labels
        labels = merged


_ROWS_AT_ONCE = 256


def win_chances(strengths: Mapping[int, float]) -> dict[int, float]:
    """Each entry's chance of beating an entry drawn at random from the others (0.5 when it stands alone).

    These average exactly 0.5 over a round, whatever scale the strengths are on, which makes them the
    score to publish: "preferred over 73% of the other designs".
    """
    ids = list(strengths)
    s = np.array([strengths[entry] for entry in ids], dtype=float)
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ValueError("strengths must be positive and finite")
    n = len(ids)
    if n == 1:
        return {ids[0]: 0.5}
    # Row blocks of the n x n table of chances, never the whole: for 5,000 entries it took 400 MB and a second.
    totals = np.empty(n)
    for first in range(0, n, _ROWS_AT_ONCE):
        rows = s[first:first + _ROWS_AT_ONCE, None]
        totals[first:first + len(rows)] = (rows / (rows + s[None, :])).sum(axis=1)
    # The diagonal is exactly 1/2 (s / 2s); taking it out leaves the mean over the n - 1 others.
    chances = (totals - 0.5) / (n - 1)
    return {entry: float(chance) for entry, chance in zip(ids, chances, strict=True)}


def choose_pair(entry_ids: Sequence[int], appearances: Mapping[int, int], pair_counts: Mapping[frozenset, int], *,
                exclude: Collection[int] = (), seen_pairs: Collection[frozenset] = (),
                rng: random.Random) -> tuple[int, int] | None:
    """The next pair to show a citizen, as (left, right); None when no eligible pair is left to ask.

    The first entry is one of those shown least so far, the second the one least often paired with it,
    then least shown (All Our Ideas' adaptive choice, simplified): every entry gathers comparisons at the
    same pace, and they spread over many opponents. Entries in `exclude` (the citizen's own) are never
    shown. A pair in `seen_pairs` (already answered by this citizen) never comes back: one person has one
    answer per pair, so when every pair is answered there is nothing left to ask (None). Ties are broken by
    `rng`, which also decides which side each entry goes on.
    """
    excluded = set(exclude)
    # In the caller's order, not a set's: the same rng seed must give the same pair.
    eligible = [entry for entry in dict.fromkeys(entry_ids) if entry not in excluded]
    shown = set(eligible)
    seen = {pair for pair in map(frozenset, seen_pairs) if len(pair) == 2 and pair <= shown}
    seen_with = dict.fromkeys(eligible, 0)
    for pair in seen:
        for entry in pair:
            seen_with[entry] += 1
    # Entries with at least one partner left that this citizen has not judged against them.
    open_entries = [entry for entry in eligible if seen_with[entry] < len(eligible) - 1]
    if not open_entries:  # fewer than two eligible entries, or every pair of them answered
        return None
    first = _pick_least(open_entries, lambda entry: appearances.get(entry, 0), rng)
    partners = [entry for entry in eligible if entry != first and frozenset((first, entry)) not in seen]
    second = _pick_least(
        partners, lambda entry: (pair_counts.get(frozenset((first, entry)), 0), appearances.get(entry, 0)), rng)
    return (first, second) if rng.random() < 0.5 else (second, first)


def _pick_least(candidates, key, rng: random.Random):
    """One of the candidates with the smallest key, chosen at random."""
    least = min(key(candidate) for candidate in candidates)
    return rng.choice([candidate for candidate in candidates if key(candidate) == least])


def kendall_tau(order_a: Sequence[int], order_b: Sequence[int]) -> float:
    """Kendall's tau between two orderings of the same entries: 1 for the same order, -1 for reversed.

    Both must list the same ids once each; 1.0 when there are fewer than two, as no pair can disagree.
    """
    if len(set(order_a)) != len(order_a) or set(order_a) != set(order_b) or len(order_b) != len(order_a):
        raise ValueError("kendall_tau compares two orderings of the same entries, each listed once")
    n = len(order_a)
    if n < 2:
        return 1.0
    position_in_b = {entry: i for i, entry in enumerate(order_b)}
    ranks = np.array([position_in_b[entry] for entry in order_a])
    # A pair is discordant when a puts it one way and b the other: an inversion of b's positions in a's order.
    discordant = int(np.count_nonzero(np.triu(ranks[:, None] > ranks[None, :], k=1)))
    return 1.0 - 2.0 * discordant / (n * (n - 1) // 2)
