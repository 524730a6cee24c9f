"""Expert-round aggregation: hand-worked examples first, then the properties a fair tally must keep."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contest.scoring import (
    Criterion,
    Scale,
    Sheet,
    distributions,
    kendalls_w,
    krippendorff_alpha_interval,
    tally,
    weighted_mean,
)

# The railing call's criteria: culture 30%, feasibility 30%, aesthetics 40%.
RAILING = (Criterion(1, 30), Criterion(2, 30), Criterion(3, 40))
TEN = Scale(1, 10)
# A wide scale with marks kept in its middle: normalised values never reach the ends, so no clipping
# muddies the properties that hold exactly only without it.
WIDE = Scale(0, 100)


def sheet(entry: int, juror: int, culture: float, feasibility: float, aesthetics: float) -> Sheet:
    return Sheet(entry_id=entry, juror_id=juror, marks={1: culture, 2: feasibility, 3: aesthetics})


def flat(entry: int, juror: int, mark: float) -> Sheet:
    """A sheet giving the same mark on every criterion, so its weighted mean is that mark."""
    return sheet(entry, juror, mark, mark, mark)


def ranks(result) -> dict[int, int]:
    return {r.entry_id: r.rank for r in result.results}


def by_entry(result) -> dict:
    return {r.entry_id: r for r in result.results}


# --- hand-worked examples ------------------------------------------------------------------------------

def test_weighted_mean_of_the_railing_criteria():
    # (8*30 + 6*30 + 10*40) / 100 = (240 + 180 + 400) / 100 = 8.2
    assert weighted_mean({1: 8, 2: 6, 3: 10}, RAILING) == pytest.approx(8.2)


def test_weighted_mean_needs_every_criterion():
    with pytest.raises(ValueError, match="criterion 3"):
        weighted_mean({1: 8, 2: 6}, RAILING)


def test_raw_tally_of_three_entries_and_two_jurors():
    sheets = [
        sheet(10, 1, 8, 6, 10),  # 2.4 + 1.8 + 4.0 = 8.2
        sheet(20, 1, 5, 5, 5),  # 5.0
        sheet(30, 1, 9, 9, 6),  # 2.7 + 2.7 + 2.4 = 7.8
        sheet(10, 2, 6, 6, 6),  # 6.0
        sheet(20, 2, 7, 8, 6),  # 2.1 + 2.4 + 2.4 = 6.9
        sheet(30, 2, 10, 8, 9),  # 3.0 + 2.4 + 3.6 = 9.0
    ]
    result = tally(sheets, RAILING, TEN, normalise=False, samples=0)
    # entry 30: (7.8 + 9.0) / 2 = 8.4; entry 10: (8.2 + 6.0) / 2 = 7.1; entry 20: (5.0 + 6.9) / 2 = 5.95
    assert [(r.entry_id, r.rank) for r in result.results] == [(30, 1), (10, 2), (20, 3)]
    assert [r.score for r in result.results] == pytest.approx([8.4, 7.1, 5.95])
    assert all(r.score == r.raw_score and r.jurors == 2 for r in result.results)
    assert all(r.rank_low == r.rank_high == r.rank for r in result.results)
    assert result.normalised is False and result.fallbacks == {}


def test_tied_entries_share_the_better_rank():
    # Entries 2 and 3 both average 7: ranks 1, 2, 2, 4.
    sheets = [flat(1, 1, 9), flat(2, 1, 8), flat(3, 1, 6), flat(4, 1, 5),
              flat(1, 2, 9), flat(2, 2, 6), flat(3, 2, 8), flat(4, 2, 5)]
    result = tally(sheets, RAILING, TEN, normalise=False, samples=0)
    assert ranks(result) == {1: 1, 2: 2, 3: 2, 4: 4}
    assert [r.entry_id for r in result.results] == [1, 2, 3, 4]


def test_tie_survives_floating_point_noise():
    # With weights 33.3 / 33.3 / 33.4 both sheets come to (33.3 * 3.5 + 33.4 * 2) / 100 = 1.8335 on paper,
    # but floating point gives 1.8335 and 1.8334999999999997: still a tie.
    criteria = (Criterion(1, 33.3), Criterion(2, 33.3), Criterion(3, 33.4))
    sheets = [Sheet(1, 1, {1: 1, 2: 2.5, 3: 2}), Sheet(2, 1, {1: 1.5, 2: 2, 3: 2})]
    assert weighted_mean(sheets[0].marks, criteria) != weighted_mean(sheets[1].marks, criteria)
    assert ranks(tally(sheets, criteria, TEN, normalise=False, samples=0)) == {1: 1, 2: 1}


def test_trimmed_mean_drops_the_extremes():
    sheets = [flat(1, juror, mark) for juror, mark in enumerate([1, 6, 7, 8, 10], start=1)]
    result = tally(sheets, RAILING, TEN, normalise=False, trim=0.2, samples=0)
    # floor(0.2 * 5) = 1 value off each end: mean(6, 7, 8) = 7; the raw score keeps all five: 32 / 5 = 6.4.
    assert result.results[0].score == pytest.approx(7.0)
    assert result.results[0].raw_score == pytest.approx(6.4)


def test_trimming_waits_for_three_sheets_and_a_whole_value():
    two = [flat(1, 1, 2), flat(1, 2, 10)]
    assert tally(two, RAILING, TEN, normalise=False, trim=0.4, samples=0).results[0].score == pytest.approx(6)
    four = [flat(1, juror, mark) for juror, mark in enumerate([1, 5, 6, 10], start=1)]
    # floor(0.2 * 4) = 0: nothing dropped.
    assert tally(four, RAILING, TEN, normalise=False, trim=0.2, samples=0).results[0].score == pytest.approx(5.5)


def test_normalisation_lets_harsh_and_lenient_jurors_count_alike():
    # A harsh juror marks entries 1-5 with 1..5, a lenient one entries 6-10 with 5..9: the same ranking each.
    sheets = [flat(entry, 1, entry) for entry in range(1, 6)] + [flat(entry, 2, entry - 1) for entry in range(6, 11)]
    raw = tally(sheets, RAILING, TEN, normalise=False, samples=0)
    assert by_entry(raw)[5].rank == 5  # the harsh juror's favourite trails the lenient juror's middling ones
    result = tally(sheets, RAILING, TEN, samples=0)
    # All ten sheets: mean 5, population std sqrt(60 / 10) = sqrt(6). Each juror: mean at their middle mark,
    # std sqrt(2); a favourite has z = 2 / sqrt(2) = sqrt(2), so 5 + sqrt(2) * sqrt(6) = 5 + 2 sqrt(3).
    assert by_entry(result)[5].score == pytest.approx(5 + 2 * math.sqrt(3))
    assert by_entry(result)[10].score == pytest.approx(5 + 2 * math.sqrt(3))
    assert ranks(result)[5] == ranks(result)[10] == 1
    assert ranks(result)[4] == ranks(result)[9] == 3
    assert result.normalised is True and result.fallbacks == {}


def test_jurors_normalisation_cannot_serve_fall_back_to_raw_scores():
    regulars = [flat(entry, juror, (entry + juror) % 9 + 1) for juror in (1, 2) for entry in range(1, 7)]
    newcomer = [flat(1, 3, 4), flat(2, 3, 9)]  # two sheets, fewer than min_entries
    flat_liner = [flat(entry, 4, 7) for entry in range(1, 7)]  # the same 7 for everyone
    result = tally(regulars + newcomer + flat_liner, RAILING, TEN, samples=0)
    assert result.fallbacks == {3: "too_few_entries", 4: "no_spread"}


def test_a_jury_that_gives_everyone_the_same_ties_everyone():
    sheets = [flat(entry, juror, 6) for juror in (1, 2, 3) for entry in range(1, 7)]
    result = tally(sheets, RAILING, TEN, samples=50, cut=3)
    assert set(result.fallbacks.values()) == {"no_spread"}
    assert all(r.rank == 1 and r.score == 6 for r in result.results)
    assert result.agreement.alpha is None  # no variation at all: nothing to agree or disagree on
    assert result.agreement.kendall_w is None


def test_close_entries_straddle_the_cut_and_clear_ones_do_not():
    # Juror 1 prefers entry 1, juror 2 entry 2: re-drawing the jury can put either on top.
    split = [flat(1, 1, 9), flat(2, 1, 7), flat(3, 1, 2), flat(1, 2, 7), flat(2, 2, 8.5), flat(3, 2, 2)]
    result = by_entry(tally(split, RAILING, TEN, normalise=False, samples=200, cut=1))
    assert (result[1].rank, result[1].rank_low, result[1].rank_high) == (1, 1, 2)
    assert result[1].straddles_cut and result[2].straddles_cut
    assert not result[3].straddles_cut and result[3].rank_low == result[3].rank_high == 3
    # No cut, nothing straddles.
    assert not any(r.straddles_cut for r in tally(split, RAILING, TEN, normalise=False, samples=200).results)


def test_an_empty_round_has_no_results():
    result = tally([], RAILING, TEN)
    assert result.results == () and result.agreement.alpha is None and result.agreement.kendall_w is None


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="two sheets"):
        tally([flat(1, 1, 5), flat(1, 1, 6)], RAILING, TEN)
    with pytest.raises(ValueError, match="off the scale"):
        tally([flat(1, 1, 11)], RAILING, TEN)
    with pytest.raises(ValueError, match="trim"):
        tally([flat(1, 1, 5)], RAILING, TEN, trim=0.5)
    with pytest.raises(ValueError, match="step"):
        tally([flat(1, 1, 5)], RAILING, Scale(1, 10, 0.4))


def test_krippendorffs_alpha_by_hand():
    # Units (entries) [1, 2], [3, 3], [2, 4, 3]; the lone [5] has nobody to pair with and is left out.
    # Observed: sum over ordered pairs within a unit of (v_i - v_j)^2, divided by (m_u - 1):
    #   [1, 2]: 2 * 1 / 1 = 2;  [3, 3]: 0;  [2, 4, 3]: 2 * (4 + 1 + 1) / 2 = 6.   D_o = (2 + 0 + 6) / n, n = 7.
    # Expected: all seven values 1, 2, 3, 3, 2, 4, 3: sum 18, sum of squares 52;
    #   sum over ordered pairs = 2 * (7 * 52 - 18^2) = 80, D_e = 80 / (7 * 6).
    # alpha = 1 - D_o / D_e = 1 - (8 / 7) * (42 / 80) = 1 - 0.6 = 0.4
    assert krippendorff_alpha_interval([[1, 2], [3, 3], [2, 4, 3], [5]]) == pytest.approx(0.4)


def test_krippendorffs_alpha_on_the_textbook_reliability_data():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units, gaps;
    # the paper gives alpha = 0.849 for the interval metric.
    units = [[1, 1, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4], [4, 4, 4, 4],
             [1, 1, 2, 1], [2, 2, 2, 2], [5, 5, 5], [1, 1], [3]]
    assert krippendorff_alpha_interval(units) == pytest.approx(0.849, abs=5e-4)


def test_krippendorffs_alpha_limits():
    assert krippendorff_alpha_interval([[3, 3], [5, 5, 5], [1, 1]]) == 1.0
    assert krippendorff_alpha_interval([[4, 4], [4, 4]]) is None  # no variation: D_e = 0
    assert krippendorff_alpha_interval([[1], [2], []]) is None  # nothing pairable
    assert krippendorff_alpha_interval([]) is None


def brute_force_alpha(units):
    """The coincidence-matrix definition, pair by pair: slow and obviously right."""
    pairable = [unit for unit in units if len(unit) >= 2]
    values = [v for unit in pairable for v in unit]
    n = len(values)
    observed = sum((a - b) ** 2 / (len(unit) - 1)
                   for unit in pairable for i, a in enumerate(unit) for j, b in enumerate(unit) if i != j) / n
    expected = sum((a - b) ** 2 for i, a in enumerate(values) for j, b in enumerate(values) if i != j) / (n * (n - 1))
    return 1 - observed / expected


@settings(deadline=None, max_examples=50)
@given(st.lists(st.lists(st.integers(1, 10), max_size=5), min_size=1, max_size=8))
def test_krippendorffs_alpha_matches_its_definition(units):
    values = [v for unit in units if len(unit) >= 2 for v in unit]
    assume(len(values) >= 2 and len(set(values)) > 1)
    assert krippendorff_alpha_interval(units) == pytest.approx(brute_force_alpha(units))


def test_kendalls_w_by_hand():
    assert kendalls_w([[1, 2, 3], [1, 2, 3], [1, 2, 3]]) == pytest.approx(1.0)
    assert kendalls_w([[5.5, 7, 9], [1, 4, 8]]) == pytest.approx(1.0)  # same order, any scores
    # Ranks (1, 2, 3), (1, 3, 2), (2, 1, 3): rank sums 4, 6, 8 around m(n+1)/2 = 6, so S = 4 + 0 + 4 = 8;
    # W = 12 * 8 / (3^2 * (3^3 - 3)) = 96 / 216 = 4/9.
    assert kendalls_w([[1, 2, 3], [1, 3, 2], [2, 1, 3]]) == pytest.approx(4 / 9)
    # With a tie: ranks (1, 2.5, 2.5) and (1, 2, 3); sums 2, 4.5, 5.5 around 4, S = 4 + 0.25 + 2.25 = 6.5;
    # T = 2^3 - 2 = 6, W = 12 * 6.5 / (2^2 * 24 - 2 * 6) = 78 / 84 = 13/14.
    assert kendalls_w([[1, 2, 2], [1, 2, 3]]) == pytest.approx(13 / 14)


def test_kendalls_w_limits():
    assert kendalls_w([[1, 2, 3]]) is None  # one juror agrees with nobody
    assert kendalls_w([[4, 4], [6, 6]]) is None  # everyone tied everything
    assert kendalls_w([[1, 2], [2, 1]]) == pytest.approx(0.0)


def test_tally_reports_kendalls_w_only_for_a_complete_design():
    complete = [flat(entry, juror, entry + juror % 2) for juror in (1, 2, 3) for entry in range(1, 5)]
    assert tally(complete, RAILING, TEN, samples=0).agreement.kendall_w == pytest.approx(1.0)
    assert tally(complete[1:], RAILING, TEN, samples=0).agreement.kendall_w is None


def test_distributions_count_marks_on_each_step():
    scale = Scale(1, 3, 0.5)  # steps 1, 1.5, 2, 2.5, 3
    sheets = [Sheet(1, 1, {1: 1, 2: 1.5}), Sheet(2, 1, {1: 2.5, 2: 1.5}), Sheet(1, 2, {1: 2.5, 2: 2}),
              Sheet(2, 2, {1: 3, 2: 3})]
    criteria = (Criterion(1, 50), Criterion(2, 50))
    assert distributions(sheets, criteria, scale) == {1: [1, 0, 0, 2, 1], 2: [0, 2, 1, 0, 1]}
    assert distributions([], criteria, TEN) == {1: [0] * 19, 2: [0] * 19}
    with pytest.raises(ValueError, match="not on the scale"):
        distributions([Sheet(1, 1, {1: 1.2, 2: 2})], criteria, scale)


# --- properties ----------------------------------------------------------------------------------------

@st.composite
def rounds(draw, *, complete: bool = False, min_sheets: int = 1, low: int = 1, high: int = 10):
    """Sheets of a small round: distinct juror and entry ids, each juror scoring some (or all) entries."""
    entry_ids = sorted(draw(st.permutations(range(1, 100)))[:draw(st.integers(3, 7))])
    juror_ids = draw(st.permutations(range(1, 100)))[:draw(st.integers(2, 5))]
    marks = st.integers(low, high)
    sheets = []
    for juror in juror_ids:
        if complete:
            scored = entry_ids
        else:
            scored = draw(st.lists(st.sampled_from(entry_ids), min_size=min(min_sheets, len(entry_ids)),
                                   unique=True))
        sheets += [Sheet(entry, juror, {c.id: draw(marks) for c in RAILING}) for entry in scored]
    return sheets


PROPERTY = settings(deadline=None, max_examples=50)


@PROPERTY
@given(rounds(), st.data(), st.booleans(), st.sampled_from([0.0, 0.2]))
def test_the_order_of_the_sheets_changes_nothing(sheets, data, normalise, trim):
    shuffled = data.draw(st.permutations(sheets))
    options = dict(normalise=normalise, trim=trim, samples=100, seed=7, cut=2, min_entries=3)
    assert tally(shuffled, RAILING, TEN, **options) == tally(sheets, RAILING, TEN, **options)


@PROPERTY
@given(rounds(), st.data(), st.booleans())
def test_renaming_jurors_keeps_scores_and_ranks(sheets, data, normalise):
    old = sorted({s.juror_id for s in sheets})
    new = dict(zip(old, data.draw(st.permutations([juror + 50_000 for juror in old])), strict=True))
    renamed = [Sheet(s.entry_id, new[s.juror_id], s.marks) for s in sheets]
    before = tally(sheets, RAILING, TEN, normalise=normalise, samples=0, min_entries=3)
    after = tally(renamed, RAILING, TEN, normalise=normalise, samples=0, min_entries=3)
    assert ranks(after) == ranks(before)
    assert [r.score for r in after.results] == pytest.approx([r.score for r in before.results], rel=1e-12)
    assert after.fallbacks == {new[juror]: reason for juror, reason in before.fallbacks.items()}


@PROPERTY
@given(rounds(min_sheets=3, low=45, high=55), st.data())
def test_a_juror_marking_everything_higher_changes_no_normalised_rank(sheets, data):
    juror = data.draw(st.sampled_from(sorted({s.juror_id for s in sheets})))
    shift = data.draw(st.integers(-5, 5))
    shifted = [Sheet(s.entry_id, s.juror_id, {c: m + shift for c, m in s.marks.items()}) if s.juror_id == juror
               else s for s in sheets]
    before = tally(sheets, RAILING, WIDE, samples=0, min_entries=3)
    assume(not before.fallbacks)  # a juror who fell back is used raw, and raw scores do move
    after = tally(shifted, RAILING, WIDE, samples=0, min_entries=3)
    assert after.fallbacks == {}
    assert ranks(after) == ranks(before)


@PROPERTY
@given(rounds(complete=True, low=45, high=55), st.integers(40, 60), st.booleans())
def test_a_juror_giving_everyone_the_same_mark_is_set_aside(sheets, mark, normalise):
    entries = sorted({s.entry_id for s in sheets})
    flat_liner = [Sheet(entry, 99_999, {c.id: mark for c in RAILING}) for entry in entries]
    before = tally(sheets, RAILING, WIDE, normalise=normalise, samples=0, min_entries=3)
    assume(not before.fallbacks)
    after = tally(sheets + flat_liner, RAILING, WIDE, normalise=normalise, samples=50, min_entries=3)
    if normalise:
        assert after.fallbacks == {99_999: "no_spread"}
    assert ranks(after) == ranks(before)


@PROPERTY
@given(rounds(), st.integers(0, 2**32), st.sampled_from([0.0, 0.25]), st.integers(1, 4), st.booleans())
def test_the_bootstrap_is_reproducible_and_brackets_the_rank(sheets, seed, trim, cut, normalise):
    options = dict(normalise=normalise, trim=trim, samples=200, seed=seed, cut=cut, min_entries=3)
    result = tally(sheets, RAILING, TEN, **options)
    assert tally(sheets, RAILING, TEN, **options) == result
    for entry in result.results:
        assert 1 <= entry.rank_low <= entry.rank <= entry.rank_high <= len(result.results)
        assert entry.straddles_cut == (entry.rank_low <= cut < entry.rank_high)
    assert [(r.rank, r.entry_id) for r in result.results] == sorted((r.rank, r.entry_id) for r in result.results)


@PROPERTY
@given(rounds(), st.integers(0, 1000))
def test_the_trimmed_bootstrap_agrees_with_the_plain_one_when_nothing_is_trimmed(sheets, seed):
    # With fewer than 100 sheets per entry floor(0.01 n) = 0: the two bootstrap paths must draw and rank alike.
    plain = tally(sheets, RAILING, TEN, samples=200, seed=seed, min_entries=3)
    barely = tally(sheets, RAILING, TEN, samples=200, seed=seed, min_entries=3, trim=0.01)
    assert [(r.entry_id, r.rank, r.rank_low, r.rank_high) for r in barely.results] == \
        [(r.entry_id, r.rank, r.rank_low, r.rank_high) for r in plain.results]


# --- size ----------------------------------------------------------------------------------------------

def test_a_city_sized_round_is_tallied_quickly():
    """2,000 entries, 30 jurors, 5 criteria, 5 jurors per entry: 10,000 sheets, normalised, 1,000 samples."""
    rng = np.random.default_rng(2024)
    criteria = [Criterion(i, 20) for i in range(1, 6)]
    quality = rng.normal(0, 1.5, 2000)
    leniency = rng.normal(0, 1, 30)
    sheets = []
    for entry in range(2000):
        for juror in rng.choice(30, size=5, replace=False):
            noisy = 5.5 + quality[entry] + leniency[juror] + rng.normal(0, 1, size=5)
            marks = np.clip(np.round(noisy * 2) / 2, 1, 10)
            sheets.append(Sheet(entry + 1, int(juror) + 1, dict(zip(range(1, 6), marks.tolist(), strict=True))))
    started = time.perf_counter()
    result = tally(sheets, criteria, TEN, samples=1000, cut=200)
    elapsed = time.perf_counter() - started
    print(f"\ntally of 10,000 sheets with 1,000 bootstrap samples: {elapsed:.2f} s")
    assert len(result.results) == 2000
    assert result.agreement.alpha is not None and result.agreement.kendall_w is None
