"""Scoring of a self-assessment: pure functions over a Sheet and the producer's choices.

No database, no templates. Decision 26/2026/QĐ-TTg: Điều 3.3 (star bands), Phụ lục II (sheets,
*** / **** / ***** minimums, knock-out conditions), Điều 7.2 (what the commune assesses).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from handlers.selfassess.sheets import LEVELS, Criterion, Option, Sheet

NONE = -1                    # "none of the levels above" (0 points), offered when no option is worth 0
BANDS = ((90, 5), (70, 4), (50, 3), (30, 2))
CERTIFIED_FROM = 3           # Điều 4.1a: no decision and no certificate below 3★
TOP_LOSSES = 5


def band(total: float) -> int:
    """Điều 3.3: 90–100 5★, 70–<90 4★, 50–<70 3★, 30–<50 2★, <30 1★."""
    return next((stars for floor, stars in BANDS if total >= floor), 1)


def none_option() -> Option:
    return Option("", 0)


def choices(c: Criterion, case: int | None) -> list[tuple[int, Option]]:
    """What the producer may answer, lowest points first; NONE when no listed option is worth 0."""
    listed = c.choices(case)
    extra = [(NONE, none_option())] if listed and min(o.points for _, o in listed) > 0 else []
    return sorted(extra + listed, key=lambda io: (io[1].points, io[0]))


def applies(c: Criterion, points: Mapping[str, int]) -> bool:
    """5.2 'Chỉ áp dụng khi có câu chuyện sản phẩm': scored only when the story criterion has points."""
    return not c.requires or points.get(c.requires, 0) > 0


@dataclass(frozen=True)
class Scored:
    criterion: Criterion
    index: int | None              # chosen option index (NONE for "none of the above"); None = not applicable
    points: int
    low: int                       # provisional criteria: one level below / above the chosen one
    high: int
    best: int                      # the most points available (for this case)
    next_option: Option | None     # the next level up, if any

    @property
    def lost(self) -> int:
        return self.best - self.points

    @property
    def option(self) -> Option | None:
        if self.index is None:
            return None
        return none_option() if self.index == NONE else self.criterion.options[self.index]


@dataclass(frozen=True)
class Miss:
    level: int
    criterion: Criterion
    required: Option               # the option marked as the minimum for that level
    chosen: Option | None


@dataclass(frozen=True)
class PartScore:
    id: str
    title: str
    max: int
    points: int
    low: int
    high: int


@dataclass(frozen=True)
class Result:
    sheet: Sheet
    scored: tuple[Scored, ...]
    parts: tuple[PartScore, ...]
    total: int
    low: int
    high: int
    band: int
    band_low: int
    band_high: int
    misses: tuple[Miss, ...]
    minimum_level: int             # highest level whose minimums (and all lower ones) are met; 2 when 3★'s are not
    knocked_out: bool              # the producer said a "Hồ sơ bị loại khi" condition applies or is unsure
    criterion_knockouts: tuple[Scored, ...]
    losses: tuple[Scored, ...]

    @property
    def provisional(self) -> tuple[Scored, ...]:
        return tuple(s for s in self.scored if s.criterion.provisional and s.index is not None)

    @property
    def certified(self) -> bool:
        return self.band >= CERTIFIED_FROM

    def missed(self, level: int) -> list[Miss]:
        return [m for m in self.misses if m.level == level]

    @property
    def cautious_band(self) -> int:
        """The band if every missed minimum caps the level (the text leaves this open)."""
        if self.band < CERTIFIED_FROM:
            return self.band
        return min(self.band, self.minimum_level)

    @property
    def open_question(self) -> bool:
        """True when a missed minimum could change the band and the sheet does not say how."""
        return self.cautious_band != self.band


def _score(c: Criterion, index: int | None, case: int | None) -> Scored:
    opts = choices(c, case)
    best = max(o.points for _, o in opts)
    if index is None:
        return Scored(c, None, 0, 0, 0, 0, None)
    pos = next(k for k, (i, _) in enumerate(opts) if i == index)
    pts = opts[pos][1].points
    higher = [o for _, o in opts[pos + 1:] if o.points > pts]
    lower = [o for _, o in opts[:pos] if o.points < pts]
    low, high = pts, pts
    if c.provisional:
        low = lower[-1].points if lower else pts
        high = higher[0].points if higher else pts
    return Scored(c, index, pts, low, high, best, higher[0] if higher else None)


def thresholds(c: Criterion, case: int | None) -> dict[int, Option]:
    """level -> the lowest-scoring option marked as that level's minimum."""
    out: dict[int, Option] = {}
    for _, o in c.choices(case):
        if o.min_for in LEVELS and (o.min_for not in out or o.points < out[o.min_for].points):
            out[o.min_for] = o
    return out


def evaluate(sheet: Sheet, picks: Mapping[str, int], *, case: int | None = None,
             knockout: bool = False) -> Result:
    """Score a complete (or partial) set of picks: criterion id -> option index (or NONE)."""
    scored: list[Scored] = []
    points: dict[str, int] = {}
    for c in sheet.criteria:
        idx = picks.get(c.id)
        if not applies(c, points):
            idx = None
            s = Scored(c, None, 0, 0, 0, 0, None)
        else:
            s = _score(c, idx, case) if idx is not None else _score(c, None, case)
        points[c.id] = s.points
        scored.append(s)

    parts = tuple(PartScore(p.id, p.title, p.max,
                            sum(s.points for s in scored if s.criterion.part == p.id),
                            sum(s.low for s in scored if s.criterion.part == p.id),
                            sum(s.high for s in scored if s.criterion.part == p.id)) for p in sheet.parts)
    total, low, high = (sum(p.points for p in parts), sum(p.low for p in parts), sum(p.high for p in parts))

    misses = []
    for s in scored:
        if s.index is None and s.criterion.requires:
            continue
        for level, required in sorted(thresholds(s.criterion, case).items()):
            if s.points < required.points:
                misses.append(Miss(level, s.criterion, required, s.option))
    missed_levels = {m.level for m in misses}
    minimum_level = 2
    for level in LEVELS:
        if level in missed_levels:
            break
        minimum_level = level

    ko = tuple(s for s in scored if s.criterion.knockout and s.index is not None
               and s.points == min(o.points for _, o in choices(s.criterion, case)))
    losses = sorted((s for s in scored if s.index is not None and s.lost > 0),
                    key=lambda s: -s.lost)[:TOP_LOSSES]
    return Result(sheet, tuple(scored), parts, total, low, high, band(total), band(low), band(high),
                  tuple(misses), minimum_level, knockout, ko, tuple(losses))
