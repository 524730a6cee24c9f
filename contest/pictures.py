"""Pictures of the figures a page already shows in a table, drawn on the server as inline SVG (no script, prints
cleanly, allowed by the CSP): here only their geometry, from the same values the table shows, so picture and table
cannot drift; `templates/pictures.html` draws them with their words in the page's language.

Pure (no Flask, no database).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    """The city's districts (contest.geo's outlines) drawn to `width`, each shaded by its count of `counts`
    (keyed by the district's name); longitude scaled by the cosine of the middle latitude so the city keeps its
    shape, each district's count written at the middle of its largest part."""
    import math

    south = min(d.bounds[0] for d in outlines)
    west = min(d.bounds[1] for d in outlines)
    north = max(d.bounds[2] for d in outlines)
    east = max(d.bounds[3] for d in outlines)
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = (width - 2 * MARGIN) / ((east - west) * squeeze)
    height = round((north - south) * scale + 2 * MARGIN, 1)
    top = max(counts.values(), default=0)
    steps = shading_steps(top)

    def xy(lng: float, lat: float) -> tuple[float, float]:
        return round(MARGIN + (lng - west) * squeeze * scale, 1), round(MARGIN + (north - lat) * scale, 1)

    shapes = []
    for district in outlines:
        parts = []
        for polygon in district.polygons:
            for ring in polygon:
                points = [xy(lng, lat) for lng, lat in ring]
                kept = [points[0]] + [p for prev, p in zip(points, points[1:], strict=False) if p != prev]
                parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in kept) + "Z")
        largest = max((polygon[0] for polygon in district.polygons), key=len)
        xs, ys = zip(*(xy(lng, lat) for lng, lat in largest), strict=True)
        count = counts.get(district.name, 0)
        shapes.append(DistrictShape(district.name, district.name_en, count, shading_step(count, steps),
                                    "".join(parts), round((min(xs) + max(xs)) / 2, 1),
                                    round((min(ys) + max(ys)) / 2, 1)))
    return DistrictPicture(shapes, width, height, steps, top)
