"""The final formula: parts of a ranking (the jury's, the public's) combined on ranks or percentiles.

Pure functions, no Flask, no database. Raw scores never meet: each part is first turned into ranks among
the same entries, so a small margin in votes moves an entry one place, never the whole weight of the part.

- A part gives each entry a score, higher is better. An entry a part has no score for ranks below all the
  others in that part (tied with any others that have none).
- Ranks are fractional: entries tied for places 2 and 3 both get 2.5, so ties neither gain nor lose.
- The percentile of rank r among n entries is 100 * (n - r) / (n - 1): 100 for the best, 0 for the last
  (100 for all when there is one entry).
- On ranks, the combined value is the weighted mean rank (lower is better); on percentiles, the weighted mean
  percentile (higher is better). Parts of weight 0 do not count; the weights need not add up to 100.
- The final rank is 1 + the number of entries with a strictly better combined value ("1, 2, 2, 4").
"""
from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

RANKS = "ranks"
PERCENTILES = "percentiles"
EPSILON = 1e-9


@dataclass(frozen=True)
class Part:
    name: str  # "expert" | "public"
    weight: float
    scores: Mapping[int, float]  # entry id -> score, higher is better


@dataclass(frozen=True)
class Placing:
    rank: float  # fractional rank among the entries (1 = best)
    percentile: float
    score: float | None  # the part's own score, None when it has none


@dataclass(frozen=True)
class Combined:
    entry_id: int
    value: float  # weighted mean rank (on ranks) or percentile (on percentiles)
    rank: int  # final rank, ties share the better one
    parts: Mapping[str, Placing]


def fractional_ranks(entry_ids: Sequence[int], scores: Mapping[int, float]) -> dict[int, float]:
    """Rank 1 for the highest score; tied entries share the mean of their places; missing scores come last."""
    ordered = sorted(entry_ids, key=lambda e: (scores.get(e) is None, -(scores.get(e) or 0.0)))
    ranks: dict[int, float] = {}
    start = 0
    while start < len(ordered):
        end = start
        key = scores.get(ordered[start])
        while end + 1 < len(ordered) and _same(scores.get(ordered[end + 1]), key):
            end += 1
        shared = (start + 1 + end + 1) / 2
        for entry_id in ordered[start:end + 1]:
            ranks[entry_id] = shared
        start = end + 1
    return ranks


def competition_ranks(fractional: Mapping[int, float]) -> dict[int, int]:
    """From fractional ranks back to "1, 2, 2, 4": one more than the entries placed strictly better. The ranks are
    sorted once and each entry's place found by bisection (counting for each entry was quadratic)."""
    ordered = sorted(fractional.values())
    return {e: 1 + bisect.bisect_left(ordered, r - EPSILON) for e, r in fractional.items()}


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= EPSILON


def percentile(rank: float, n: int) -> float:
    return 100.0 if n <= 1 else 100.0 * (n - rank) / (n - 1)


def combine(entry_ids: Sequence[int], parts: Sequence[Part], on: str = PERCENTILES) -> list[Combined]:
    """The final ranking of `entry_ids`, best first (ties by entry id)."""
    if on not in (RANKS, PERCENTILES):
        raise ValueError(f"combine on {on!r}: ranks or percentiles")
    n = len(entry_ids)
    counted = [p for p in parts if p.weight > 0]
    total = sum(p.weight for p in counted)
    placings = {}
    for part in parts:
        ranks = fractional_ranks(entry_ids, part.scores)
        placings[part.name] = {e: Placing(ranks[e], percentile(ranks[e], n), part.scores.get(e)) for e in entry_ids}
    values = {}
    for entry_id in entry_ids:
        if not counted:
            values[entry_id] = 0.0
            continue
        key = "rank" if on == RANKS else "percentile"
        values[entry_id] = sum(p.weight * getattr(placings[p.name][entry_id], key) for p in counted) / total
    ordered = sorted(entry_ids, key=lambda e: (values[e] if on == RANKS else -values[e], e))
    result: list[Combined] = []
    for position, entry_id in enumerate(ordered):
        tied = result and abs(result[-1].value - values[entry_id]) <= EPSILON
        rank = result[-1].rank if tied else position + 1
        result.append(Combined(entry_id, values[entry_id], rank, {name: p[entry_id] for name, p in placings.items()}))
    return result
