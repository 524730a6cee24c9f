"""The results snapshot as typed values: the final ranking, how it was made, each round's summary and the call's
figures, which the results pages, the API, the exports, each entrant's feedback and the archive all read.

Pure (no Flask, no database). A snapshot is stored in two parts, so that a page reads only what it shows
(contest/services/results/stored.py): its `Summary` (how it was made, each round without its places, the
figures, how many rows) on the call, and each row of the ranking with the entry's place in every round
(`Snapshot.row_records`, `row_record_json`) as a row of its own, keyed by its position. `Snapshot.assemble`
puts the parts back together. `Snapshot.to_json` is the whole snapshot in the form it was stored in before
(version 1), which the JSON export and old archives keep.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

VERSION = 1
EXPERT = "expert"  # RoundKind.EXPERT.value: the kind of a round as the snapshot names it


@dataclass(frozen=True)
class Place:
    """An entry's place in one round: its score and rank there (and, in a jury round, its rank interval, its
    jurors and its mean mark per criterion), whether it advanced, and in the final ranking its percentile.
    Every part is optional: an entry no juror scored has no place but its percentile in the final ranking."""
    score: float | None = None
    rank: int | None = None
    low: int | None = None  # the jury round's rank interval
    high: int | None = None
    jurors: int | None = None
    criteria: dict[str, float] | None = None  # criterion id (as text) -> the mean of its marks
    advanced: bool | None = None
    percentile: float | None = None  # in the final ranking's rows only

    def to_json(self) -> dict:
        out: dict[str, Any] = {}
        if self.score is not None or self.rank is not None:  # a ranked place says its score, even that it has none
            out["score"] = self.score
        for name in ("rank", "low", "high", "jurors", "criteria", "advanced", "percentile"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    @classmethod
    def from_json(cls, value: Mapping) -> Place:
        criteria = value.get("criteria")
        return cls(score=value.get("score"), rank=value.get("rank"), low=value.get("low"), high=value.get("high"),
                   jurors=value.get("jurors"), criteria=dict(criteria) if criteria is not None else None,
                   advanced=value.get("advanced"), percentile=value.get("percentile"))


@dataclass(frozen=True)
class Row:
    """One entry of the final ranking: a finalist with its rank and combined value, or an entry that stopped in
    an earlier round (`out_in` names it), with its place in the parts that count."""
    entry: int
    rank: int | None = None
    value: float | None = None
    finalist: bool = False
    out_in: str | None = None  # the title of the round it stopped in
    unsure: bool = False  # too close to a neighbour to tell apart
    expert: Place | None = None
    public: Place | None = None
    close_to: list[int] = field(default_factory=list)  # the entries it cannot be told apart from

    def to_json(self) -> dict:
        out: dict[str, Any] = {"entry": self.entry, "rank": self.rank, "value": self.value,
                               "finalist": self.finalist, "out_in": self.out_in, "unsure": self.unsure}
        for name in ("expert", "public"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name).to_json()
        if self.close_to:
            out["close_to"] = list(self.close_to)
        return out

    @classmethod
    def from_json(cls, value: Mapping) -> Row:
        return cls(entry=value["entry"], rank=value.get("rank"), value=value.get("value"),
                   finalist=bool(value.get("finalist", False)), out_in=value.get("out_in"),
                   unsure=bool(value.get("unsure", False)),
                   expert=Place.from_json(value["expert"]) if value.get("expert") is not None else None,
                   public=Place.from_json(value["public"]) if value.get("public") is not None else None,
                   close_to=list(value.get("close_to") or []))


@dataclass(frozen=True)
class CriterionShown:
    """A criterion of a jury round as the results show it."""
    id: int
    name: str
    weight: int
    description: str = ""
    name_en: str | None = None  # the English twins, when the organisers gave them
    description_en: str | None = None

    def to_json(self) -> dict:
        out = {"id": self.id, "name": self.name, "weight": self.weight, "description": self.description}
        out.update({k: v for k, v in (("name_en", self.name_en), ("description_en", self.description_en)) if v})
        return out

    @classmethod
    def from_json(cls, value: Mapping) -> CriterionShown:
        return cls(value["id"], value["name"], value["weight"], value.get("description", ""),
                   value.get("name_en"), value.get("description_en"))


@dataclass(frozen=True)
class RoundSummary:
    """What the results say about one round. A jury round ("expert") has criteria, a scale, its jurors' sheets
    and their agreement; a public round has its mode, ballots, voters and voided ballots."""
    id: int
    title: str
    kind: str  # "expert" or "public"
    entries: int
    decided: bool
    advanced: int
    places: dict[str, Place] = field(default_factory=dict)  # entry id (as text) -> its place, for the feedback
    # A jury round
    criteria: list[CriterionShown] = field(default_factory=list)
    scale: list[float] | None = None  # low, high, step
    marks: list[str] = field(default_factory=list)  # every mark of the scale, as shown
    normalise: bool = False
    trim: float = 0.0
    jurors: int = 0
    sheets: int = 0
    alpha: float | None = None
    kendall_w: float | None = None
    distributions: dict[str, list[int]] = field(default_factory=dict)  # criterion id (as text) -> times each mark
    cutoff: float | None = None  # the lowest score that advanced, when some advanced
    # A public round
    mode: str | None = None  # "votes" or "pairwise"
    ballots: int = 0
    voters: int = 0
    voided: list[tuple[str, int]] = field(default_factory=list)  # (reason, ballots)
    title_en: str | None = None  # the English twin of the title, when the organisers gave it

    @property
    def is_expert(self) -> bool:
        return self.kind == EXPERT

    def place_of(self, entry_id: int) -> Place | None:
        return self.places.get(str(entry_id))

    def to_json(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "kind": self.kind, "entries": self.entries,
                               "decided": self.decided, "advanced": self.advanced}
        if self.title_en:
            out["title_en"] = self.title_en
        if self.is_expert:
            out.update({
                "criteria": [c.to_json() for c in self.criteria], "scale": self.scale, "marks": list(self.marks),
                "normalise": self.normalise, "trim": self.trim, "jurors": self.jurors, "sheets": self.sheets,
                "alpha": self.alpha, "kendall_w": self.kendall_w,
                "distributions": {k: list(v) for k, v in self.distributions.items()},
            })
            if self.advanced:
                out["cutoff"] = self.cutoff
        else:
            out.update({"mode": self.mode, "ballots": self.ballots, "voters": self.voters,
                        "voided": [[reason, count] for reason, count in self.voided]})
        out["places"] = {e: p.to_json() for e, p in self.places.items()}
        return out

    @classmethod
    def from_json(cls, value: Mapping) -> RoundSummary:
        scale = value.get("scale")
        return cls(
            id=value["id"], title=value.get("title", ""), title_en=value.get("title_en"),
            kind=value.get("kind", EXPERT),
            entries=value.get("entries", 0), decided=bool(value.get("decided", False)),
            advanced=value.get("advanced", 0),
            places={str(e): Place.from_json(p) for e, p in (value.get("places") or {}).items()},
            criteria=[CriterionShown.from_json(c) for c in value.get("criteria") or []],
            scale=list(scale) if scale is not None else None, marks=list(value.get("marks") or []),
            normalise=bool(value.get("normalise", False)), trim=value.get("trim", 0.0),
            jurors=value.get("jurors", 0), sheets=value.get("sheets", 0), alpha=value.get("alpha"),
            kendall_w=value.get("kendall_w"),
            distributions={str(k): list(v) for k, v in (value.get("distributions") or {}).items()},
            cutoff=value.get("cutoff"), mode=value.get("mode"), ballots=value.get("ballots", 0),
            voters=value.get("voters", 0),
            voided=[(reason, count) for reason, count in value.get("voided") or []],
        )


@dataclass(frozen=True)
class FormulaUsed:
    """The final formula the ranking was made with, and the rounds its parts came from."""
    expert_weight: int
    public_weight: int
    combine_on: str  # CombineOn's value: "ranks" or "percentiles"
    expert_round: str | None = None  # the titles of the rounds the parts came from
    public_round: str | None = None
    public_mode: str | None = None
    counted: list[str] = field(default_factory=list)  # the parts of weight above 0: "expert", "public"

    def to_json(self) -> dict:
        return {"expert_weight": self.expert_weight, "public_weight": self.public_weight,
                "combine_on": self.combine_on, "expert_round": self.expert_round, "public_round": self.public_round,
                "public_mode": self.public_mode, "counted": list(self.counted)}

    @classmethod
    def from_json(cls, value: Mapping) -> FormulaUsed:
        return cls(value.get("expert_weight", 0), value.get("public_weight", 0), value.get("combine_on", ""),
                   value.get("expert_round"), value.get("public_round"), value.get("public_mode"),
                   list(value.get("counted") or []))


@dataclass(frozen=True)
class Figures:
    """The call's figures: entries received and approved, the approved ones by participant group and channel."""
    received: int = 0
    approved: int = 0
    by_group: list[tuple[str, int]] = field(default_factory=list)  # (ParticipantGroup's value or "", entries)
    by_channel: list[tuple[str, int]] = field(default_factory=list)  # (Channel's value, entries)

    def to_json(self) -> dict:
        return {"received": self.received, "approved": self.approved,
                "by_group": [[key, n] for key, n in self.by_group],
                "by_channel": [[key, n] for key, n in self.by_channel]}

    @classmethod
    def from_json(cls, value: Mapping) -> Figures:
        return cls(value.get("received", 0), value.get("approved", 0),
                   [(key, n) for key, n in value.get("by_group") or []],
                   [(key, n) for key, n in value.get("by_channel") or []])


@dataclass(frozen=True)
class Snapshot:
    """The final ranking and everything the results pages show, as computed (and, once published, frozen)."""
    computed_at: datetime | None
    formula: FormulaUsed
    rows: list[Row]
    rounds: list[RoundSummary]
    figures: Figures
    version: int = VERSION

    @property
    def finalists(self) -> list[Row]:
        return [row for row in self.rows if row.finalist]

    def row_of(self, entry_id: int) -> Row | None:
        return next((row for row in self.rows if row.entry == entry_id), None)

    def to_json(self) -> dict:
        return {"version": self.version,
                "computed_at": self.computed_at.isoformat() if self.computed_at is not None else None,
                "formula": self.formula.to_json(), "rows": [row.to_json() for row in self.rows],
                "rounds": [summary.to_json() for summary in self.rounds], "figures": self.figures.to_json()}

    @classmethod
    def from_json(cls, value: Mapping) -> Snapshot:
        """A stored snapshot; raises ValueError for a version this site does not read."""
        version = value.get("version", VERSION)
        if version != VERSION:
            raise ValueError(f"snapshot version {version}, not {VERSION}")
        computed_at = value.get("computed_at")
        return cls(computed_at=datetime.fromisoformat(computed_at) if computed_at else None,
                   formula=FormulaUsed.from_json(value.get("formula") or {}),
                   rows=[Row.from_json(row) for row in value.get("rows") or []],
                   rounds=[RoundSummary.from_json(summary) for summary in value.get("rounds") or []],
                   figures=Figures.from_json(value.get("figures") or {}), version=version)

    def summary(self) -> Summary:
        """The snapshot without its rows (and its rounds without their places), as the call stores it."""
        return Summary(self.computed_at, self.formula, [replace(r, places={}) for r in self.rounds], self.figures,
                       ranked=len(self.rows), finalists=sum(1 for row in self.rows if row.finalist),
                       version=self.version)

    def row_records(self) -> list[tuple[Row, dict[str, Place]]]:
        """Each row with its entry's place in every round (round id as text -> place), in the ranking's order."""
        places: dict[str, dict[str, Place]] = {}
        for summary in self.rounds:
            for entry, place in summary.places.items():
                places.setdefault(entry, {})[str(summary.id)] = place
        return [(row, places.get(str(row.entry), {})) for row in self.rows]

    @classmethod
    def assemble(cls, summary: Summary, records: Iterable[tuple[Row, Mapping[str, Place]]]) -> Snapshot:
        """The whole snapshot from its stored parts (the inverse of `summary` and `row_records`)."""
        rows, places = [], {str(r.id): {} for r in summary.rounds}
        for row, by_round in records:
            rows.append(row)
            for round_id, place in by_round.items():
                places.setdefault(round_id, {})[str(row.entry)] = place
        return cls(summary.computed_at, summary.formula, rows,
                   [replace(r, places=places[str(r.id)]) for r in summary.rounds], summary.figures, summary.version)

    def remapped(self, entries: Mapping[int, int], rounds: Mapping[int, int],
                 criteria: Mapping[int, int]) -> Snapshot:
        """The snapshot with its ids translated (old -> new): entries (rows, close_to, each round's places),
        rounds, and criteria (each round's list, its mark distributions, each place's mean marks). A missing
        id raises KeyError."""
        def by_criterion(values: dict) -> dict:
            return {str(criteria[int(k)]): v for k, v in values.items()}

        def place(value: Place | None) -> Place | None:
            if value is None or value.criteria is None:
                return value
            return replace(value, criteria=by_criterion(value.criteria))

        def row(value: Row) -> Row:
            return replace(value, entry=entries[value.entry], close_to=[entries[e] for e in value.close_to],
                           expert=place(value.expert), public=place(value.public))

        def summary(value: RoundSummary) -> RoundSummary:
            return replace(value, id=rounds[value.id],
                           criteria=[replace(c, id=criteria[c.id]) for c in value.criteria],
                           distributions=by_criterion(value.distributions),
                           places={str(entries[int(e)]): place(p) for e, p in value.places.items()})

        return replace(self, rows=[row(r) for r in self.rows], rounds=[summary(s) for s in self.rounds])



@dataclass(frozen=True)
class Summary:
    """A snapshot without its rows: what every results page shows beside a page of the ranking. Its rounds carry
    no places (each row carries its entry's places); `ranked` rows, of which `finalists` finalists."""
    computed_at: datetime | None
    formula: FormulaUsed
    rounds: list[RoundSummary]
    figures: Figures
    ranked: int = 0
    finalists: int = 0
    version: int = VERSION

    def to_json(self) -> dict:
        return {"version": self.version, "part": "summary",
                "computed_at": self.computed_at.isoformat() if self.computed_at is not None else None,
                "formula": self.formula.to_json(), "rounds": [summary.to_json() for summary in self.rounds],
                "figures": self.figures.to_json(), "ranked": self.ranked, "finalists": self.finalists}

    @classmethod
    def from_json(cls, value: Mapping) -> Summary:
        """A stored summary; raises ValueError for a version this site does not read, or a whole snapshot."""
        if value.get("version", VERSION) != VERSION or value.get("part") != "summary":
            raise ValueError(f"not a snapshot's summary of version {VERSION}")
        computed_at = value.get("computed_at")
        return cls(computed_at=datetime.fromisoformat(computed_at) if computed_at else None,
                   formula=FormulaUsed.from_json(value.get("formula") or {}),
                   rounds=[RoundSummary.from_json(summary) for summary in value.get("rounds") or []],
                   figures=Figures.from_json(value.get("figures") or {}), ranked=value.get("ranked", 0),
                   finalists=value.get("finalists", 0))

    def remapped(self, rounds: Mapping[int, int], criteria: Mapping[int, int]) -> Summary:
        """The summary with its round and criterion ids translated (old -> new)."""
        whole = Snapshot(self.computed_at, self.formula, [], self.rounds, self.figures).remapped({}, rounds, criteria)
        return replace(self, rounds=whole.rounds)


def row_record_json(row: Row, places: Mapping[str, Place]) -> dict:
    """One stored row: the row's JSON and the entry's place in each round (round id as text -> place)."""
    out = row.to_json()
    out["places"] = {round_id: place.to_json() for round_id, place in places.items()}
    return out


def row_record_from_json(value: Mapping) -> tuple[Row, dict[str, Place]]:
    return Row.from_json(value), {r: Place.from_json(p) for r, p in (value.get("places") or {}).items()}


def remap_row_record(value: Mapping, entries: Mapping[int, int], rounds: Mapping[int, int],
                     criteria: Mapping[int, int]) -> dict:
    """A stored row with its ids translated (old -> new), as Snapshot.remapped does for the whole."""
    row, places = row_record_from_json(value)
    whole = Snapshot(None, FormulaUsed(0, 0, ""), [row],
                     [RoundSummary(int(r), "", "", 0, False, 0, places={str(row.entry): p}) for r, p in places.items()],
                     Figures()).remapped(entries, rounds, criteria)
    return row_record_json(whole.rows[0], {str(s.id): s.places[str(whole.rows[0].entry)] for s in whole.rounds})
