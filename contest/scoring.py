"""Expert-round aggregation: weighted means, per-juror normalisation, ranks with bootstrap intervals, agreement."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Scores closer than this are one score: floating-point noise must never order two entries the jury tied.
TIE = 1e-9
# The rank interval covers the middle 95% of the bootstrap ranks.
INTERVAL = (2.5, 97.5)
# Elements per array in one bootstrap batch: bounds memory while keeping numpy's inner loops long.
_BATCH_CELLS = 2_000_000


@dataclass(frozen=True)
class Criterion:
    id: int
    weight: float  # the weights of a round add up to 100


@dataclass(frozen=True)
class Scale:
    low: float
    high: float
    step: float = 0.5


@dataclass(frozen=True)
class Sheet:
    """One juror's submitted marks for one entry."""

    entry_id: int
    juror_id: int
    marks: Mapping[int, float]  # criterion id -> mark on the scale


@dataclass(frozen=True)
class EntryResult:
    entry_id: int
    score: float  # on the scale: normalised if asked, else raw; trimmed if asked
    raw_score: float  # mean over its jurors of their plain weighted means
    jurors: int  # how many sheets
    rank: int  # 1 = best; ties share the better rank ("1, 2, 2, 4")
    rank_low: int  # bootstrap rank interval, widened if need be to hold `rank`
    rank_high: int
    straddles_cut: bool  # the interval holds ranks on both sides of the cut (False when no cut)


@dataclass(frozen=True)
class Agreement:
    alpha: float | None  # Krippendorff's alpha, interval metric, on the per-sheet weighted means
    kendall_w: float | None  # Kendall's W, only when every juror scored every entry


@dataclass(frozen=True)
class Tally:
    results: tuple[EntryResult, ...]  # ordered by rank, then entry_id
    agreement: Agreement
    fallbacks: Mapping[int, str]  # juror id -> "too_few_entries" | "no_spread": their scores were used raw
    normalised: bool


# Marks and sheets ----------------------------------------------------------------------------------

def weighted_mean(marks: Mapping[int, float], criteria: Sequence[Criterion]) -> float:
    """sum(mark * weight) / sum(weight) over the criteria; every criterion needs a mark."""
    return _weighted(marks, criteria, _total_weight(criteria))


def _weighted(marks: Mapping[int, float], criteria: Sequence[Criterion], total: float) -> float:
    try:
        return sum(marks[c.id] * c.weight for c in criteria) / total
    except KeyError as missing:
        raise ValueError(f"no mark for criterion {missing.args[0]}") from None


def _total_weight(criteria: Sequence[Criterion]) -> float:
    if not criteria:
        raise ValueError("a round needs at least one criterion")
    if len({c.id for c in criteria}) != len(criteria):
        raise ValueError("criterion ids must be unique")
    if any(not math.isfinite(c.weight) or c.weight < 0 for c in criteria):
        raise ValueError("criterion weights must be finite and not negative")
    total = math.fsum(c.weight for c in criteria)
    if total <= 0:
        raise ValueError("the criterion weights add up to nothing")
    return total


def _steps(scale: Scale) -> int:
    """How many marks the scale offers, from low to high inclusive."""
    if not all(math.isfinite(x) for x in (scale.low, scale.high, scale.step)):
        raise ValueError("the scale must be finite")
    if scale.step <= 0 or scale.high <= scale.low:
        raise ValueError("the scale needs low < high and a positive step")
    span = (scale.high - scale.low) / scale.step
    if abs(span - round(span)) > 1e-9 * max(1.0, span):
        raise ValueError("the scale's step must divide high - low")
    return round(span) + 1


def distributions(sheets: Sequence[Sheet], criteria: Sequence[Criterion], scale: Scale) -> dict[int, list[int]]:
    """Per criterion id, how many marks fell on each step of the scale, from low to high."""
    steps = _steps(scale)
    counts = {c.id: [0] * steps for c in criteria}
    for sheet in sheets:
        for criterion in criteria:
            mark = sheet.marks.get(criterion.id)
            if mark is None:  # a criterion left blank has no place in its chart
                continue
            position = (mark - scale.low) / scale.step
            index = round(position)
            if not 0 <= index < steps or abs(position - index) > 1e-9:
                raise ValueError(f"mark {mark} of juror {sheet.juror_id} is not on the scale")
            counts[criterion.id][index] += 1
    return counts


# The tally --------------------------------------------------------------------------------------

def tally(sheets: Sequence[Sheet], criteria: Sequence[Criterion], scale: Scale, *, normalise: bool = True,
          trim: float = 0.0, samples: int = 1000, seed: int = 0, cut: int | None = None,
          min_entries: int = 5) -> Tally:
    """Scores, ranks, rank intervals and agreement for one expert round."""
    _steps(scale)
    total = _total_weight(criteria)
    if not 0 <= trim < 0.5:
        raise ValueError("trim must be at least 0 and below 0.5")
    if samples < 0:
        raise ValueError("samples must not be negative")

    # One canonical order makes the result independent of how the caller listed the sheets.
    ordered = sorted(sheets, key=lambda s: (s.juror_id, s.entry_id))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if (before.juror_id, before.entry_id) == (after.juror_id, after.entry_id):
            raise ValueError(f"juror {after.juror_id} has two sheets for entry {after.entry_id}")
    if not ordered:
        return Tally(results=(), agreement=Agreement(None, None), fallbacks={}, normalised=normalise)

    raw = np.array([_weighted(s.marks, criteria, total) for s in ordered])
    for sheet in ordered:
        for criterion in criteria:
            mark = sheet.marks[criterion.id]
            if not scale.low - TIE <= mark <= scale.high + TIE:
                raise ValueError(f"mark {mark} of juror {sheet.juror_id} is off the scale")
    juror_ids = sorted({s.juror_id for s in ordered})
    entry_ids = sorted({s.entry_id for s in ordered})
    juror_of = np.searchsorted(juror_ids, [s.juror_id for s in ordered])
    entry_of = np.searchsorted(entry_ids, [s.entry_id for s in ordered])

    if normalise:
        values, fallbacks = _normalise(raw, juror_of, juror_ids, scale, min_entries)
    else:
        values, fallbacks = raw, {}

    by_entry = np.lexsort((values, entry_of))  # each entry's values, lowest first: ready for trimming
    bounds = np.searchsorted(entry_of[by_entry], np.arange(len(entry_ids) + 1))
    scores = np.empty(len(entry_ids))
    raw_scores = np.empty(len(entry_ids))
    for column in range(len(entry_ids)):
        rows = by_entry[bounds[column]:bounds[column + 1]]
        scores[column] = _trimmed_mean(values[rows].tolist(), trim)
        raw_scores[column] = math.fsum(raw[rows].tolist()) / len(rows)
    ranks = _rank_rows(scores[np.newaxis, :])[0]

    if samples and len(juror_ids) > 1:
        low, high = _bootstrap(values, juror_of, entry_of, by_entry, bounds, len(juror_ids), scores, trim,
                               samples, seed)
        low, high = np.minimum(low, ranks), np.maximum(high, ranks)
    else:
        low = high = ranks

    results = []
    for column, entry_id in enumerate(entry_ids):
        rank, rank_low, rank_high = int(ranks[column]), int(low[column]), int(high[column])
        results.append(EntryResult(
            entry_id=entry_id, score=float(scores[column]), raw_score=float(raw_scores[column]),
            jurors=int(bounds[column + 1] - bounds[column]), rank=rank, rank_low=rank_low, rank_high=rank_high,
            straddles_cut=cut is not None and rank_low <= cut < rank_high,
        ))
    results.sort(key=lambda r: (r.rank, r.entry_id))

    complete = len(ordered) == len(juror_ids) * len(entry_ids)
    agreement = Agreement(
        alpha=_alpha(raw, entry_of),
        # Sorted by juror then entry, a complete design is already the jurors x entries matrix.
        kendall_w=_kendalls_w(raw.reshape(len(juror_ids), len(entry_ids))) if complete else None,
    )
    return Tally(results=tuple(results), agreement=agreement, fallbacks=fallbacks, normalised=normalise)


def _normalise(raw: np.ndarray, juror_of: np.ndarray, juror_ids: list[int], scale: Scale,
               min_entries: int) -> tuple[np.ndarray, dict[int, str]]:
    """Each juror's z-scores, put back on the scale with the spread of all sheets: harsh and lenient count alike."""
    # fsum everywhere: the statistics must not depend on the order of summation, so relabelling jurors
    # (which reorders the sheets) gives bit-identical scores.
    overall_mean, overall_std = _mean_std(raw)
    values = raw.copy()
    fallbacks: dict[int, str] = {}
    bounds = np.searchsorted(juror_of, np.arange(len(juror_ids) + 1))
    for index, juror_id in enumerate(juror_ids):
        own = slice(bounds[index], bounds[index + 1])
        if bounds[index + 1] - bounds[index] < min_entries:
            fallbacks[juror_id] = "too_few_entries"
            continue
        mean, std = _mean_std(raw[own])
        if std <= TIE:
            # A juror who gives everyone the same has no ranking to rescale; z-scores would divide by zero.
            fallbacks[juror_id] = "no_spread"
            continue
        z = (raw[own] - mean) / std
        values[own] = np.clip(overall_mean + z * overall_std, scale.low, scale.high)
    return values, fallbacks


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    mean = math.fsum(values.tolist()) / len(values)
    return mean, math.sqrt(math.fsum(((values - mean) ** 2).tolist()) / len(values))


def _trimmed_mean(values: list[float], trim: float) -> float:
    """Mean of values given lowest first, without floor(trim * n) at each end once there are three or more."""
    n = len(values)
    cut = math.floor(trim * n) if n >= 3 else 0
    kept = values[cut:n - cut]
    return math.fsum(kept) / len(kept)


def _rank_rows(scores: np.ndarray) -> np.ndarray:
    """Competition ranks ("1, 2, 2, 4") of each row, highest score first; scores within TIE share a rank."""
    order = np.argsort(-scores, axis=1, kind="stable")
    ordered = np.take_along_axis(scores, order, axis=1)
    new_group = np.ones(scores.shape, dtype=bool)
    new_group[:, 1:] = (ordered[:, :-1] - ordered[:, 1:]) > TIE
    positions = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    starts = np.maximum.accumulate(np.where(new_group, positions, 0), axis=1)
    ranks = np.empty(scores.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, starts + 1, axis=1)
    return ranks



@dataclass(frozen=True)
class JurorMarks:
    """How one juror marks: their sheets' weighted means against the other jurors' for the same entries, and what
    normalisation made of them."""

    juror_id: int
    marks: tuple[float, ...]  # each sheet's weighted mean, as given, lowest first
    mean: float
    spread: float  # standard deviation of their marks
    others: float | None  # the other jurors' mean over the same entries (None: nobody else scored them)
    normalised_mean: float  # as counted: the same as `mean` when marks are not normalised or this juror fell back
    normalised_spread: float
    fallback: str | None  # "too_few_entries" | "no_spread": their marks were used as given


def juror_marks(sheets: Sequence[Sheet], criteria: Sequence[Criterion], scale: Scale, *, normalise: bool = True,
                min_entries: int = 5) -> tuple[JurorMarks, ...]:
    """Per juror (by id), their marks beside the panel's for the same entries: a harsh juror's mean lies below the
    others', a lenient one's above, a flat one's spread is small; normalised, they count alike."""
    _steps(scale)
    total = _total_weight(criteria)
    ordered = sorted(sheets, key=lambda s: (s.juror_id, s.entry_id))
    if not ordered:
        return ()
    raw = np.array([_weighted(s.marks, criteria, total) for s in ordered])
    juror_ids = sorted({s.juror_id for s in ordered})
    juror_of = np.searchsorted(juror_ids, [s.juror_id for s in ordered])
    values, fallbacks = (_normalise(raw, juror_of, juror_ids, scale, min_entries) if normalise
                         else (raw, {}))
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for sheet, value in zip(ordered, raw.tolist(), strict=True):
        sums[sheet.entry_id] = sums.get(sheet.entry_id, 0.0) + value
        counts[sheet.entry_id] = counts.get(sheet.entry_id, 0) + 1
    bounds = np.searchsorted(juror_of, np.arange(len(juror_ids) + 1))
    found = []
    for index, juror_id in enumerate(juror_ids):
        own = slice(bounds[index], bounds[index + 1])
        mine = ordered[own]
        # Each entry's other jurors' mean, averaged over this juror's entries: the consensus set against them.
        others = [(sums[s.entry_id] - value) / (counts[s.entry_id] - 1)
                  for s, value in zip(mine, raw[own].tolist(), strict=True) if counts[s.entry_id] > 1]
        mean, spread = _mean_std(raw[own])
        normalised_mean, normalised_spread = _mean_std(values[own])
        found.append(JurorMarks(juror_id, tuple(sorted(raw[own].tolist())), mean, spread,
                                math.fsum(others) / len(others) if others else None, normalised_mean,
                                normalised_spread, fallbacks.get(juror_id)))
    return tuple(found)

# Bootstrap over jurors ------------------------------------------------------------------------------

def _bootstrap(values: np.ndarray, juror_of: np.ndarray, entry_of: np.ndarray, by_entry: np.ndarray,
               bounds: np.ndarray, n_jurors: int, scores: np.ndarray, trim: float, samples: int,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank intervals from re-drawing the jury: how much the ranking owes to which jurors happened to serve."""
    n_entries = len(scores)
    # All draws up front, so the result cannot depend on the batch size.
    draws = np.random.default_rng(seed).integers(0, n_jurors, size=(samples, n_jurors))
    if trim:
        score, width = _trimmed_scorer(values, juror_of, by_entry, bounds, n_jurors, scores, trim)
    else:
        score, width = _mean_scorer(values, juror_of, entry_of, n_jurors, scores), 1
    batch = max(1, _BATCH_CELLS // (n_entries * width))
    ranks = np.empty((samples, n_entries), dtype=np.int32)
    for start in range(0, samples, batch):
        chunk = draws[start:start + batch]
        rows = len(chunk)
        # How many times each juror was drawn in each sample.
        counts = np.bincount((chunk + n_jurors * np.arange(rows)[:, np.newaxis]).ravel(),
                             minlength=rows * n_jurors).reshape(rows, n_jurors).astype(float)
        ranks[start:start + rows] = _rank_rows(score(counts))
    low = np.percentile(ranks, INTERVAL[0], axis=0, method="lower")
    high = np.percentile(ranks, INTERVAL[1], axis=0, method="higher")
    return low.astype(np.int64), high.astype(np.int64)


def _mean_scorer(values: np.ndarray, juror_of: np.ndarray, entry_of: np.ndarray, n_jurors: int,
                 scores: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    filled = np.zeros((n_jurors, len(scores)))
    filled[juror_of, entry_of] = values
    present = np.zeros((n_jurors, len(scores)))
    present[juror_of, entry_of] = 1.0

    def score(counts: np.ndarray) -> np.ndarray:
        weight = counts @ present
        # An entry none of the drawn jurors scored keeps its full-data score.
        out = np.broadcast_to(scores, weight.shape).copy()
        np.divide(counts @ filled, weight, out=out, where=weight > 0)
        return out

    return score


def _trimmed_scorer(values: np.ndarray, juror_of: np.ndarray, by_entry: np.ndarray, bounds: np.ndarray,
                    n_jurors: int, scores: np.ndarray, trim: float) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """A trimmed mean where a juror drawn c times counts as c sheets, done on entries x sheets arrays."""
    sizes = np.diff(bounds)
    width = int(sizes.max())
    # Each entry's sheets lowest value first, padded with a juror who is never drawn.
    jurors = np.full((len(scores), width), n_jurors)
    padded = np.zeros((len(scores), width))
    slot = np.arange(len(by_entry)) - np.repeat(bounds[:-1], sizes)
    jurors[np.repeat(np.arange(len(scores)), sizes), slot] = juror_of[by_entry]
    padded[np.repeat(np.arange(len(scores)), sizes), slot] = values[by_entry]

    def score(counts: np.ndarray) -> np.ndarray:
        copies = np.concatenate([counts, np.zeros((len(counts), 1))], axis=1)[:, jurors]  # samples x entries x slot
        n = copies.sum(axis=2)
        cut = np.where(n >= 3, np.floor(trim * n), 0.0)[:, :, np.newaxis]
        through = np.cumsum(copies, axis=2)
        # Copies dropped from the bottom (cut minus those below this slot) and from the top, per slot.
        dropped_low = np.clip(cut - (through - copies), 0, copies)
        dropped_high = np.clip(cut - (n[:, :, np.newaxis] - through), 0, copies)
        kept = copies - dropped_low - dropped_high
        weight = kept.sum(axis=2)
        out = np.broadcast_to(scores, weight.shape).copy()
        np.divide((kept * padded).sum(axis=2), weight, out=out, where=weight > 0)
        return out

    return score, width


# Agreement ------------------------------------------------------------------------------------------

def krippendorff_alpha_interval(units: Sequence[Sequence[float]]) -> float | None:
    """Krippendorff's alpha with the interval metric; units are the entries, each with its jurors' values."""
    sizes = [len(unit) for unit in units]
    values = np.array([float(v) for unit in units for v in unit])
    return _alpha(values, np.repeat(np.arange(len(units)), sizes))


def _alpha(values: np.ndarray, unit_of: np.ndarray) -> float | None:
    if not np.all(np.isfinite(values)):
        raise ValueError("values must be finite")
    if len(values) == 0:
        return None
    pairable = np.bincount(unit_of)[unit_of] >= 2  # a lone value has nobody to agree with
    values = values[pairable]
    _, unit_of, sizes = np.unique(unit_of[pairable], return_inverse=True, return_counts=True)
    n = len(values)
    if n < 2 or values.max() == values.min():
        return None
    # sum over ordered pairs i != j of (v_i - v_j)^2 = 2 m sum (v - mean)^2; deviations instead of raw
    # squares avoid cancellation when values are large and close.
    means = np.bincount(unit_of, weights=values) / sizes
    within = np.bincount(unit_of, weights=(values - means[unit_of]) ** 2)
    observed = np.sum(2 * sizes * within / (sizes - 1)) / n
    expected = 2 * n * np.sum((values - values.mean()) ** 2) / (n * (n - 1))
    return float(1 - observed / expected)


def kendalls_w(matrix: Sequence[Sequence[float]]) -> float | None:
    """Kendall's W with tie correction; rows are jurors, columns entries, every cell filled."""
    array = np.asarray(matrix, dtype=float)
    if array.ndim != 2:
        raise ValueError("Kendall's W needs a complete jurors x entries matrix")
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite")
    return _kendalls_w(array)


def _kendalls_w(array: np.ndarray) -> float | None:
    m, n = array.shape
    if m < 2 or n < 2:
        return None
    ranks = np.empty_like(array)
    ties = 0
    for row, scores in enumerate(array):
        order = np.argsort(scores, kind="stable")
        ordered = scores[order]
        group = np.concatenate([[0], np.cumsum(np.diff(ordered) > TIE)])
        sizes = np.bincount(group)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        ranks[row, order] = (starts + (sizes + 1) / 2)[group]  # tied values share their average rank
        ties += int(np.sum(sizes ** 3 - sizes))
    rank_sums = ranks.sum(axis=0)
    spread = float(np.sum((rank_sums - m * (n + 1) / 2) ** 2))
    denominator = m * m * (n ** 3 - n) - m * ties
    if denominator <= 0:  # every juror tied every entry: no ranking to agree on
        return None
    return 12 * spread / denominator
