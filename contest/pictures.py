"""Pictures of the figures a page already shows in a table, drawn on the server as inline SVG (no script, prints
cleanly, allowed by the CSP): here only their geometry, from the same values the table shows, so picture and table
cannot drift; `templates/pictures.html` draws them with their words in the page's language.

Pure (no Flask, no database).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH = 420  # the viewBox's width: the picture scales to its box, legible from a phone's width up
LABEL_WIDTH = 150  # the entries' titles, left of the plot
ROW_HEIGHT = 26
MARGIN = 12
AXIS_HEIGHT = 30
TITLE_CHARACTERS = 9  # longer titles are cut with "…" (the whole title is the mark's tooltip and in the table)
MOST_SHOWN = 50  # a city-size ranking draws its top only; the table and the download hold every row


def ticks(low: int, high: int, most: int = 10) -> list[int]:
    """Round steps from low (always included) to high, at most about `most` of them."""
    span = max(high - low, 1)
    step = next((candidate for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000)
                 if span / candidate <= most), 10000)
    rounded = [value for value in range(low - low % step + step, high + 1, step) if value - low > step / 2]
    return [low, *rounded]  # low, then round steps far enough from it not to overlap it


def short(title: str, characters: int = TITLE_CHARACTERS) -> str:
    return title if len(title) <= characters else title[: characters - 1] + "…"


@dataclass(frozen=True)
class IntervalMark:
    """One entry: its rank as a point and its rank interval as a bar, in the ranking's order."""
    entry: int
    title: str
    label: str  # the title as drawn (cut)
    rank: int
    low: int
    high: int
    unsure: bool  # too close to tell apart from a neighbour: drawn dashed and marked "≈"
    y: float
    x: float
    x_low: float
    x_high: float


@dataclass(frozen=True)
class IntervalPicture:
    marks: list[IntervalMark]
    width: int
    height: float
    axis: list[tuple[int, float]]  # rank, x
    axis_y: float
    plot_left: float
    plot_right: float
    more: int  # rows left out of the picture (shown in the table)


def rank_intervals(rows: Sequence[tuple[int, str, int, int, int, bool]], most: int = MOST_SHOWN
                   ) -> IntervalPicture | None:
    """The picture of "how sure the ranking is": rows of (entry, title, rank, low, high, unsure), in the ranking's
    order; the axis runs from rank 1 on the left to the widest interval's end."""
    if not rows:
        return None
    shown = list(rows[:most])
    last = max(max(high, rank) for _entry, _title, rank, _low, high, _unsure in shown)
    left, right = LABEL_WIDTH + MARGIN, WIDTH - MARGIN

    def x_of(rank: float) -> float:
        return round(left + (rank - 1) / max(last - 1, 1) * (right - left), 1)

    marks = []
    for index, (entry, title, rank, low, high, unsure) in enumerate(shown):
        y = MARGIN + index * ROW_HEIGHT + ROW_HEIGHT / 2
        marks.append(IntervalMark(entry, title, short(title), rank, low, high, unsure, y, x_of(rank), x_of(low),
                                  x_of(high)))
    axis_y = MARGIN + len(shown) * ROW_HEIGHT + 4
    axis = [(tick, x_of(tick)) for tick in ticks(1, last)]
    return IntervalPicture(marks, WIDTH, axis_y + AXIS_HEIGHT, axis, axis_y, left, right, len(rows) - len(shown))


@dataclass(frozen=True)
class CountBar:
    label: str  # the mark, as the table shows it
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class CountPicture:
    bars: list[CountBar]
    width: int
    height: float
    base_y: float
    top: int  # the largest count


BAR_AREA = 90  # the height of the tallest bar


def counts(labels: Sequence[str], values: Sequence[int]) -> CountPicture | None:
    """A bar per label (a mark of the scale) as high as its count: the distribution of one criterion's marks."""
    if not labels:
        return None
    top = max(max(values, default=0), 1)
    slot = (WIDTH - 2 * MARGIN) / len(labels)
    width = round(max(slot * 0.7, 1), 1)
    base_y = MARGIN + 16 + BAR_AREA
    bars = []
    for index, (label, value) in enumerate(zip(labels, list(values) + [0] * (len(labels) - len(values)),
                                               strict=False)):
        height = round(value / top * BAR_AREA, 1)
        x = round(MARGIN + index * slot + (slot - width) / 2, 1)
        bars.append(CountBar(str(label), int(value), x, round(base_y - height, 1), width, height))
    return CountPicture(bars, WIDTH, base_y + 24, base_y, top)


def ranking_intervals(rows, entries, most: int = MOST_SHOWN) -> IntervalPicture | None:
    """`rank_intervals` of a results snapshot's rows (those with a jury rank), titled from `entries` (id -> entry)."""
    picked = []
    for row in rows:
        place = row.expert
        if place is None or place.rank is None or place.low is None or place.high is None:
            continue
        entry = entries.get(row.entry)
        picked.append((row.entry, entry.title if entry is not None else f"#{row.entry}", place.rank, place.low,
                       place.high, row.unsure))
    return rank_intervals(picked, most)


# How each juror marks ------------------------------------------------------------------------------------------

JUROR_ROW_HEIGHT = 40  # a juror's marks as given on the upper line, as counted (normalised) on the lower
DOTS_SHOWN = 40  # a juror's sheets drawn as dots, at most: evenly through their marks, lowest to highest


@dataclass(frozen=True)
class JurorRow:
    """One juror: their marks as dots, their mean and spread as given and as normalised, the others' mean."""
    name: str
    label: str
    sheets: int
    mean: float
    spread: float
    others: float | None
    normalised_mean: float
    normalised_spread: float
    fallback: str | None
    y: float  # the line of the marks as given; as normalised at y + 14
    dots: list[float]
    x_mean: float
    x_low: float
    x_high: float
    x_others: float | None
    xn_mean: float
    xn_low: float
    xn_high: float


@dataclass(frozen=True)
class JurorPicture:
    rows: list[JurorRow]
    width: int
    height: float
    axis: list[tuple[int, float]]  # mark, x
    axis_y: float
    plot_left: float
    plot_right: float
    more: int


def evenly(values: Sequence[float], most: int) -> list[float]:
    """At most `most` of sorted values, evenly through them, first and last kept."""
    if len(values) <= most:
        return list(values)
    return [values[round(i * (len(values) - 1) / (most - 1))] for i in range(most)]


def juror_marks(rows: Sequence[tuple[str, object]], low: float, high: float, most: int | None = MOST_SHOWN
                ) -> JurorPicture | None:
    """The picture of "how each juror marks": rows of (juror's name, scoring.JurorMarks), on the round's scale."""
    if not rows:
        return None
    shown = list(rows if most is None else rows[:most])
    left, right = LABEL_WIDTH + MARGIN, WIDTH - MARGIN

    def x_of(mark: float) -> float:
        return round(left + (min(max(mark, low), high) - low) / max(high - low, 1e-9) * (right - left), 1)

    drawn = []
    for index, (name, j) in enumerate(shown):
        y = MARGIN + index * JUROR_ROW_HEIGHT + 12
        drawn.append(JurorRow(
            name, short(name), len(j.marks), j.mean, j.spread, j.others, j.normalised_mean, j.normalised_spread,
            j.fallback, y, [x_of(m) for m in evenly(j.marks, DOTS_SHOWN)], x_of(j.mean), x_of(j.mean - j.spread),
            x_of(j.mean + j.spread), None if j.others is None else x_of(j.others), x_of(j.normalised_mean),
            x_of(j.normalised_mean - j.normalised_spread), x_of(j.normalised_mean + j.normalised_spread)))
    axis_y = MARGIN + len(shown) * JUROR_ROW_HEIGHT
    axis = [(tick, x_of(tick)) for tick in ticks(int(low), int(high))]
    return JurorPicture(drawn, WIDTH, axis_y + AXIS_HEIGHT, axis, axis_y, left, right, len(rows) - len(shown))


# When the votes came -------------------------------------------------------------------------------------------

HOURS_SHOWN = 14 * 24  # a longer round draws its first two weeks; the table holds every hour
HOUR_AREA = 120  # the height of the busiest hour's bar


@dataclass(frozen=True)
class HourBar:
    """One hour with ballots: all of them as the bar, those of new accounts as its hatched foot."""
    start: datetime
    count: int
    new: int
    x: float
    width: float
    y: float
    height: float
    new_y: float
    new_height: float


@dataclass(frozen=True)
class BurstBand:
    """A burst the integrity view lists, shaded over the hours it spans."""
    entry: int
    start: datetime
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class HourPicture:
    bars: list[HourBar]
    bursts: list[BurstBand]
    width: int
    height: float
    base_y: float
    top: int
    axis: list[tuple[datetime, float]]  # the start of an hour (the template formats it), x
    first: datetime
    last: datetime  # the end of the last hour drawn
    more: int


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def hours(rows: Sequence[tuple[datetime, int, int]], first: datetime, last: datetime,
          bursts: Sequence[tuple[int, datetime, int]] = (), most: int | None = HOURS_SHOWN) -> HourPicture | None:
    """Ballots per hour: rows of (hour, ballots, of new accounts) in time order, drawn on an axis from the hour
    of `first` to `last`; bursts as (entry, start, ballots), each shaded over the hour from its start."""
    if not rows:
        return None
    shown = list(rows if most is None else rows[:most])
    start = hour_of(min(first, shown[0][0]))
    end = hour_of(max(last, shown[-1][0])) + timedelta(hours=1)
    if len(shown) < len(rows):
        end = shown[-1][0] + timedelta(hours=1)
    span = max(round((end - start) / timedelta(hours=1)), 1)
    slot = (WIDTH - 2 * MARGIN) / span
    top = max(count for _hour, count, _new in shown)
    base_y = MARGIN + HOUR_AREA

    def x_of(moment: datetime) -> float:
        return round(MARGIN + (moment - start) / timedelta(hours=1) * slot, 2)

    bars = []
    for hour, count, new in shown:
        height = round(count / top * HOUR_AREA, 1)
        new_height = round(new / top * HOUR_AREA, 1)
        bars.append(HourBar(hour, count, new, x_of(hour), round(max(slot * 0.8, 0.5), 2), round(base_y - height, 1),
                            height, round(base_y - new_height, 1), new_height))
    bands = [BurstBand(entry, at, count, x_of(hour_of(at)), round(2 * slot, 2))
             for entry, at, count in bursts if start <= at < end]
    step = next((hours_ for hours_ in (1, 2, 3, 6, 12, 24, 48, 72, 168, 336) if span / hours_ <= 3), 720)
    axis = [(start + timedelta(hours=h), x_of(start + timedelta(hours=h))) for h in range(0, span + 1, step)]
    return HourPicture(bars, bands, WIDTH, base_y + AXIS_HEIGHT + 8, base_y, top, axis, start, end,
                       len(rows) - len(shown))


# Pairwise: who beat whom ---------------------------------------------------------------------------------------

MATRIX_SHOWN = 8  # the win matrix of the top entries: at a phone's width eight columns stay legible
CELL = 30


@dataclass(frozen=True)
class WinCell:
    loser: int
    wins: int  # the row's entry preferred to the column's
    losses: int  # the column's preferred to the row's
    x: float
    more: bool  # won more often than lost: drawn dark with light figures


@dataclass(frozen=True)
class WinRow:
    entry: int
    title: str
    label: str
    place: int
    y: float
    cells: list[WinCell]


@dataclass(frozen=True)
class WinMatrix:
    rows: list[WinRow]
    columns: list[tuple[int, float]]  # place, x of the column's middle
    cell: int
    width: int
    height: float
    top: float
    more: int


def win_matrix(order: Sequence[tuple[int, str]], wins: Mapping[tuple[int, int], int],
               most: int | None = MATRIX_SHOWN) -> WinMatrix | None:
    """Rows and columns are the entries in `order` (best first); each cell how often the row's entry was
    preferred to the column's, from `wins` ((winner, loser) -> times)."""
    if not order:
        return None
    shown = list(order if most is None else order[:most])
    left, top = LABEL_WIDTH + MARGIN, MARGIN + 20
    cell = CELL if left + len(shown) * CELL <= WIDTH - MARGIN else int((WIDTH - MARGIN - left) / len(shown))
    rows = []
    for index, (entry, title) in enumerate(shown):
        cells = []
        for column, (other, _title) in enumerate(shown):
            if other == entry:
                continue
            won, lost = wins.get((entry, other), 0), wins.get((other, entry), 0)
            cells.append(WinCell(other, won, lost, left + column * cell, won > lost))
        rows.append(WinRow(entry, title, short(title, TITLE_CHARACTERS - 3), index + 1,
                           top + index * cell, cells))
    columns = [(index + 1, left + index * cell + cell / 2) for index in range(len(shown))]
    width = max(WIDTH, left + len(shown) * cell + MARGIN)
    return WinMatrix(rows, columns, cell, width, top + len(shown) * cell + MARGIN, top, len(order) - len(shown))


@dataclass(frozen=True)
class OpponentBar:
    """One entry met in the pairs: the times this entry was preferred to it, then the times it was not."""
    entry: int
    title: str
    label: str
    wins: int
    losses: int
    y: float
    x_wins: float  # the wins' bar runs from plot_left to x_wins, the losses' on to x_losses
    x_losses: float


@dataclass(frozen=True)
class OpponentPicture:
    bars: list[OpponentBar]
    width: int
    height: float
    plot_left: float
    top: int  # the most meetings with one opponent
    more: int


def wins_against(rows: Sequence[tuple[int, str, int, int]], most: int | None = MOST_SHOWN
                 ) -> OpponentPicture | None:
    """An entry's "wins against": rows of (opponent, title, wins, losses), most met first."""
    if not rows:
        return None
    shown = list(rows if most is None else rows[:most])
    left, right = LABEL_WIDTH + MARGIN, WIDTH - MARGIN - 40  # the figures sit right of the bar
    top = max(max(wins + losses for _e, _t, wins, losses in shown), 1)
    bars = []
    for index, (entry, title, wins, losses) in enumerate(shown):
        x_wins = round(left + wins / top * (right - left), 1)
        bars.append(OpponentBar(entry, title, short(title), wins, losses, MARGIN + index * ROW_HEIGHT, x_wins,
                                round(x_wins + losses / top * (right - left), 1)))
    return OpponentPicture(bars, WIDTH, MARGIN * 2 + len(shown) * ROW_HEIGHT, left, top, len(rows) - len(shown))


# The call's journey ----------------------------------------------------------------------------------------------

STEP_HEIGHT = 34
STEPS_SHOWN = 30  # a call with many follow-up updates draws its first steps; the dated list holds them all


@dataclass(frozen=True)
class JourneyStep:
    kind: str  # opens | closes | round_opens | round_closes | results_published | notice_ends | results_final |
    #            follow_up | results (the results to come, undated)
    at: datetime | None
    past: bool
    detail: Mapping
    y: float


@dataclass(frozen=True)
class Journey:
    steps: list[JourneyStep]
    width: int
    height: float
    line_x: float
    today_y: float | None  # None: today lies past the last step drawn, and more steps were left out
    more: int


def journey(steps: Sequence[tuple[str, datetime | None, bool, Mapping]], today: datetime,
            most: int | None = STEPS_SHOWN) -> Journey | None:
    """The call's steps, in order, each (kind, when, past, detail), one under another; "today" between the last
    past step and the next."""
    if not steps:
        return None
    shown = list(steps if most is None else steps[:most])
    drawn = [JourneyStep(kind, at, past, detail, MARGIN + 12 + index * STEP_HEIGHT)
             for index, (kind, at, past, detail) in enumerate(shown)]
    # Today sits just under the last step done (below its date, above the next step): the steps are evenly
    # spaced, not by time, so that a long notice period and a busy week of follow-up both stay legible.
    today_y = None
    past = [step for step in drawn if step.past]
    if not past:
        today_y = drawn[0].y - 12
    elif past[-1] is not drawn[-1] or len(shown) == len(steps):
        today_y = past[-1].y + 24
    return Journey(drawn, WIDTH, MARGIN * 2 + len(shown) * STEP_HEIGHT + 8, MARGIN + 10, today_y,
                   len(steps) - len(shown))


def tally_intervals(results, entries, most: int | None = MOST_SHOWN) -> IntervalPicture | None:
    """`rank_intervals` of an expert round's provisional ranking (scoring.EntryResult rows), titled from `entries`;
    an entry whose interval holds the cut is the unsure one."""
    return rank_intervals([(r.entry_id, entries[r.entry_id].title if r.entry_id in entries else f"#{r.entry_id}",
                            r.rank, r.rank_low, r.rank_high, r.straddles_cut) for r in results], most)


@dataclass(frozen=True)
class DistrictShape:
    name: str  # as the outlines and the department tree name it (Chinese)
    name_en: str
    count: int
    step: int  # 0 for none, else 1 to len(SHADES): how dark it is drawn
    path: str  # the SVG path of its outline
    label_x: float
    label_y: float


@dataclass(frozen=True)
class DistrictPicture:
    shapes: list[DistrictShape]
    width: int
    height: float
    steps: list[tuple[int, int]]  # each shaded step's lowest and highest count, for the legend
    top: int


SHADES = 4  # steps of shading above "none"; the page's stylesheet gives each a colour and the darker ones hatching


def shading_steps(top: int, steps: int = SHADES) -> list[tuple[int, int]]:
    """The counts each step of shading holds, from 1 to the largest count, in equal parts (fewer when the largest
    count is small): the call's map and the statistics page shade by the same steps."""
    if top <= 0:
        return []
    steps = min(steps, top)
    bounds = [round(top * n / steps) for n in range(steps + 1)]
    return [(bounds[n] + 1, bounds[n + 1]) for n in range(steps)]


def shading_step(count: int, steps: list[tuple[int, int]]) -> int:
    return next((n + 1 for n, (low, high) in enumerate(steps) if low <= count <= high), 0)


def districts(counts: dict[str, int], outlines, width: int = WIDTH) -> DistrictPicture:
    """The city's districts (contest.geo's outlines, a tuple) drawn to `width`, each shaded by its count of `counts`
    (keyed by the district's name); longitude scaled by the cosine of the middle latitude so the city keeps its
    shape, each district's count written at the middle of its largest part."""
    height, drawn = _drawn_outlines(outlines, width)
    top = max(counts.values(), default=0)
    steps = shading_steps(top)
    shapes = []
    for name, name_en, path, label_x, label_y in drawn:
        count = counts.get(name, 0)
        shapes.append(DistrictShape(name, name_en, count, shading_step(count, steps), path, label_x, label_y))
    return DistrictPicture(shapes, width, height, steps, top)


@functools.lru_cache(maxsize=8)
def _drawn_outlines(outlines, width: int) -> tuple[float, tuple[tuple[str, str, str, float, float], ...]]:
    """The picture's height, and each district's name, SVG path and the point where its count is written: the
    same whatever the counts, and most of a statistics page's time (36 ms), so drawn once per outlines and width."""
    import math

    south = min(d.bounds[0] for d in outlines)
    west = min(d.bounds[1] for d in outlines)
    north = max(d.bounds[2] for d in outlines)
    east = max(d.bounds[3] for d in outlines)
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = (width - 2 * MARGIN) / ((east - west) * squeeze)
    height = round((north - south) * scale + 2 * MARGIN, 1)

    def xy(lng: float, lat: float) -> tuple[float, float]:
        return round(MARGIN + (lng - west) * squeeze * scale, 1), round(MARGIN + (north - lat) * scale, 1)

    drawn = []
    for district in outlines:
        parts = []
        for polygon in district.polygons:
            for ring in polygon:
                points = [xy(lng, lat) for lng, lat in ring]
                kept = [points[0]] + [p for prev, p in zip(points, points[1:], strict=False) if p != prev]
                parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in kept) + "Z")
        largest = max((polygon[0] for polygon in district.polygons), key=len)
        xs, ys = zip(*(xy(lng, lat) for lng, lat in largest), strict=True)
        drawn.append((district.name, district.name_en, "".join(parts), round((min(xs) + max(xs)) / 2, 1),
                      round((min(ys) + max(ys)) / 2, 1)))
    return height, tuple(drawn)
