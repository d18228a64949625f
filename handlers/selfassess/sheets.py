"""The 26 score sheets of Annex II (content/data/qd26_sheets/NN.yml) as plain objects. The sub-groups that
lead to them (content/data/subgroups.yml) and the product groups are core.reference's."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from core.config import ROOT

DATA = ROOT / "content" / "data"
SHEETS = DATA / "qd26_sheets"
LEVELS = (3, 4, 5)
ASSESSORS = ("producer", "commune", "council")


@dataclass(frozen=True)
class Option:
    label: str
    points: int
    min_for: int | None = None       # *** / **** / ***** : the minimum for 3★ / 4★ / 5★
    case: int | None = None          # sheet 26: "Trường hợp 1/2"


@dataclass(frozen=True)
class Criterion:
    id: str
    part: str
    title: str
    max: int
    assessed_by: str
    options: tuple[Option, ...]
    hint: str = ""
    notes: tuple[str, ...] = ()
    knockout: tuple[str, ...] = ()
    requires: str = ""               # applies only when this other criterion scored points

    def choices(self, case: int | None = None) -> list[tuple[int, Option]]:
        """(index, option) the producer may pick, for the sheet's case if the options depend on it."""
        return [(i, o) for i, o in enumerate(self.options) if o.case is None or case is None or o.case == case]

    @property
    def provisional(self) -> bool:
        return self.assessed_by != "producer"


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    max: int


@dataclass(frozen=True)
class Heading:
    id: str
    part: str
    title: str
    max: int


@dataclass(frozen=True)
class Sheet:
    number: int
    title: str
    scope: str
    version: str
    source: str
    knockout: tuple[str, ...]
    fixes: tuple[str, ...]
    parts: tuple[Part, ...]
    headings: tuple[Heading, ...]
    criteria: tuple[Criterion, ...]
    cases: dict[int, str] = field(default_factory=dict)

    def criterion(self, cid: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == cid), None)

    def part(self, pid: str) -> Part:
        return next(p for p in self.parts if p.id == pid)


def parse_sheet(raw: dict) -> Sheet:
    crits = tuple(Criterion(
        id=str(c["id"]), part=c["part"], title=c["title"], max=int(c["max"]), assessed_by=c["assessed_by"],
        hint=c.get("hint", ""), notes=tuple(c.get("notes", ())), knockout=tuple(c.get("knockout", ())),
        requires=str(c.get("requires", "")),
        options=tuple(Option(o["label"], int(o["points"]), o.get("min_for"), o.get("case")) for o in c["options"]))
        for c in raw["criteria"])
    return Sheet(number=int(raw["sheet"]), title=raw["title"], scope=raw.get("scope", ""), version=raw["version"],
                 source=raw["source"], knockout=tuple(raw.get("knockout") or ()), fixes=tuple(raw.get("fixes") or ()),
                 parts=tuple(Part(p["id"], p["title"], int(p["max"])) for p in raw["parts"]),
                 headings=tuple(Heading(str(h["id"]), h["part"], h["title"], int(h["max"]))
                                for h in raw.get("headings", ())),
                 criteria=crits, cases={int(k): v for k, v in (raw.get("cases") or {}).items()})


@lru_cache(maxsize=1)
def sheets() -> dict[int, Sheet]:
    out = {}
    for path in sorted(SHEETS.glob("[0-9][0-9].yml")):
        s = parse_sheet(yaml.safe_load(path.read_text(encoding="utf-8")))
        out[s.number] = s
    return out


def sheet(number: int) -> Sheet | None:
    return sheets().get(number)
