"""Old place name -> current province (the 34 units since 1/7/2025).

Data: content/data/provinces.yml (units, `formed_from`, aliases) and content/data/old_places.yml
(ways of typing the old provinces: "BRVT", "TT-Huế"…, and well-known former cities/towns).

    find("brvt giờ thuộc tỉnh nào")  ->  Place(typed="Bà Rịa – Vũng Tàu", kind="old", province=<Hồ Chí Minh>)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from core.reference import DATA, Province, all_provinces, province_label
from core.text import fold

_SEP = re.compile(r"[\s\-–.,;:!?()/]+")


@dataclass(frozen=True)
class Place:
    typed: str              # canonical name of what was typed ("Bà Rịa – Vũng Tàu", "Mỹ Tho", "Hà Nội")
    kind: str               # old (a merged old province) | city (a former city/town) | current
    province: Province      # the unit it belongs to now
    old_province: str = ""  # for a city: the old province it was in
    start: int = 0
    end: int = 0

    @property
    def label(self) -> str:
        return province_label(self.province)

    @property
    def merged(self) -> bool:
        """The current unit was formed from several old ones."""
        return len(self.province.formed_from) > 1


def _key(text: str) -> tuple[str, ...]:
    return tuple(w for w in _SEP.split(fold(text)) if w)


@lru_cache(maxsize=1)
def _index() -> tuple[dict[tuple[str, ...], tuple[str, str, str, Province]], dict[str, int]]:
    """Folded name words -> (name, kind, old province, province); and first word of a name -> the
    length of the longest name starting with it (find_all tries only those lengths)."""
    provinces = all_provinces()
    by_old = {fold(old): p for p in provinces for old in p.formed_from}
    by_name = {fold(p.name): p for p in provinces}
    raw = yaml.safe_load((DATA / "old_places.yml").read_text(encoding="utf-8")) or {}
    index: dict[tuple[str, ...], tuple[str, str, str, Province]] = {}

    def add(name: str, entry):
        k = _key(name)
        if k:
            index.setdefault(k, entry)

    for p in provinces:                                     # old units merged into a new one
        for old in p.formed_from:
            if fold(old) != fold(p.name):
                add(old, (old, "old", "", p))
    for old, spellings in (raw.get("old_provinces") or {}).items():
        p = by_old.get(fold(old)) or by_name.get(fold(old))
        if p is None:
            raise ValueError(f"old_places.yml: {old!r} is no old unit of provinces.yml")
        kind = "old" if fold(old) != fold(p.name) else "current"
        for s in [old, *spellings]:
            add(s, (old if kind == "old" else p.name, kind, "", p))
    for city, old in (raw.get("old_cities") or {}).items():
        p = by_old.get(fold(old)) or by_name.get(fold(old))
        if p is None:
            raise ValueError(f"old_places.yml: city {city!r} in unknown province {old!r}")
        add(city, (city, "city", old, p))
    for p in provinces:                                     # current names last
        add(p.name, (p.name, "current", "", p))
    ymal = yaml.safe_load((DATA / "provinces.yml").read_text(encoding="utf-8"))
    for entry in ymal["provinces"]:
        p = next(x for x in provinces if x.id == entry["id"])
        for alias in entry.get("aliases") or []:
            add(alias, (p.name, "current", "", p))
    starts: dict[str, int] = {}
    for k in index:
        starts[k[0]] = max(starts.get(k[0], 0), len(k))
    return index, starts


def find_all(text: str) -> list[Place]:
    """Every place named in `text`, left to right, longest names first."""
    index, starts = _index()
    words = [w for w in _SEP.split(fold(text)) if w]
    out, i = [], 0
    while i < len(words):
        longest = starts.get(words[i])
        if longest is None:             # no name starts with this word
            i += 1
            continue
        for n in range(min(longest, len(words) - i), 0, -1):
            hit = index.get(tuple(words[i:i + n]))
            if hit:
                typed, kind, old, p = hit
                out.append(Place(typed, kind, p, old, i, i + n))
                i += n
                break
        else:
            i += 1
    return out


def find(text: str) -> Place | None:
    """The most telling place in `text`: an old province or city before a current name."""
    places = find_all(text)
    for kind in ("city", "old", "current"):
        hit = next((p for p in places if p.kind == kind), None)
        if hit:
            return hit
    return None
