"""Product gazetteer: a product name typed any usual way -> OCOP group and sub-group.

Data: content/data/products.yml (products by sub-group) and content/data/subgroups.yml (the 26
sub-groups of Decision 26/2026/QĐ-TTg, Phụ lục I). Used by the FAQ ("X thuộc nhóm nào"), and
offered to the dossier walk and the certificate import:

    from core.faq.products import lookup
    lookup("lạp xưởng tươi thuộc nhóm nào")[0].product.group      # "thuc_pham"

Matching is a greedy longest match over syllables after folding diacritics. A one-syllable name
("chè") only matches a word typed with the same marks or with none ("che"), never "chế".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import yaml

from core.reference import DATA, group_by_id
from core.text import fold

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class SubGroup:
    id: str
    group: str
    category: str
    name: str
    sheet: int
    ministries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Product:
    name: str                   # shown name (first spelling, capitalised)
    names: tuple[str, ...]
    subgroup: str
    alt: str = ""               # a second plausible sub-group ("" if none)

    @property
    def group(self) -> str:
        return subgroups()[self.subgroup].group


@dataclass(frozen=True)
class Match:
    product: Product
    typed: str                  # the words of the text that matched
    start: int                  # word positions in the text
    end: int


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", (text or "").lower()))


_fold_word = lru_cache(maxsize=16384)(fold)     # one word at a time: a bounded, pure table


def _has_marks(word: str) -> bool:
    return _fold_word(word) != word


@lru_cache(maxsize=1)
def subgroups() -> dict[str, SubGroup]:
    raw = yaml.safe_load((DATA / "subgroups.yml").read_text(encoding="utf-8"))
    names = raw.get("ministries") or {}
    return {s["id"]: SubGroup(s["id"], s["group"], s["category"], s["name"], int(s["sheet"]),
                              tuple(names.get(m, m) for m in s.get("ministry") or ()))
            for s in raw["subgroups"]}


@dataclass
class Gazetteer:
    products: list[Product]
    keys: dict[tuple[str, ...], list[tuple[Product, frozenset[str]]]]   # folded words -> [(product, spellings)]
    clashes: list[tuple[str, str, str]]       # (folded name, first product, other product): told apart by diacritics
    blocked: frozenset[tuple[str, ...]]                   # not_products, folded
    max_len: int
    source: str

    def __post_init__(self):
        # first folded word of a name or blocked phrase -> the longest such key starting with it
        self._starts: dict[str, int] = {}
        for key in (*self.keys, *self.blocked):
            if key:
                self._starts[key[0]] = max(self._starts.get(key[0], 0), min(len(key), self.max_len))

    def lookup(self, text: str) -> list[Match]:
        """Products named in `text`, left to right, longest names first, no overlaps."""
        raw = _words(text)
        folded = [_fold_word(w) for w in raw]
        out: list[Match] = []
        starts = self._starts
        i = 0
        while i < len(raw):
            step = 1
            longest = starts.get(folded[i])
            if longest is None:         # no name (nor blocked phrase) starts with this word
                i += 1
                continue
            for n in range(min(longest, len(raw) - i), 0, -1):
                key = tuple(folded[i:i + n])
                if key in self.blocked:
                    step = n
                    break
                hit = self.keys.get(key)
                if hit is None:
                    continue
                typed = " ".join(raw[i:i + n])
                product = next((p for p, spellings in hit if typed in spellings), None)
                if product is None:
                    if n == 1 and _has_marks(typed):
                        continue        # "chế" is not "chè"; "che" (no marks) is
                    product = hit[0][0]
                out.append(Match(product, " ".join(raw[i:i + n]), i, i + n))
                step = n
                break
            i += step
        return out


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    raw = yaml.safe_load((DATA / "products.yml").read_text(encoding="utf-8"))
    known = subgroups()
    products: list[Product] = []
    keys: dict[tuple[str, ...], list[tuple[Product, frozenset[str]]]] = {}
    clashes: list[tuple[str, str, str]] = []
    for sub, items in (raw.get("products") or {}).items():
        if sub not in known:
            raise ValueError(f"products.yml: unknown sub-group {sub!r}")
        for item in items or []:
            spec = item if isinstance(item, dict) else {"names": item}
            names = tuple(n.strip() for n in str(spec["names"]).split("|") if n.strip())
            alt = str(spec.get("alt") or "")
            if alt and alt not in known:
                raise ValueError(f"products.yml: unknown alt sub-group {alt!r}")
            shown = names[0][0].upper() + names[0][1:]
            product = Product(shown, names, sub, alt)
            products.append(product)
            for name in names:
                words = _words(name)
                key = tuple(fold(w) for w in words)
                found = keys.setdefault(key, [])
                mine = next((k for k, (p, _) in enumerate(found) if p is product), None)
                if mine is None:
                    if found and found[0][0].subgroup != sub:
                        clashes.append((" ".join(key), found[0][0].name, product.name))
                    found.append((product, frozenset({" ".join(words)})))
                else:
                    found[mine] = (product, found[mine][1] | {" ".join(words)})
    blocked = frozenset(tuple(fold(w) for w in _words(b)) for b in raw.get("not_products") or [])
    return Gazetteer(products, keys, clashes, blocked, max((len(k) for k in keys), default=1), str(raw.get("source", "")))


def lookup(text: str) -> list[Match]:
    """Products named in `text` (see Gazetteer.lookup)."""
    return gazetteer().lookup(text)


def group_name(group_id: str) -> str:
    g = group_by_id(group_id)
    return g.name if g else group_id


def best(text: str) -> Product | None:
    """The one product a short text names (a register cell, a dossier answer), else None."""
    hits = lookup(text)
    return hits[0].product if len(hits) == 1 else None


def group_of(text: str):
    """The OCOP group a register cell names: a group ("Thực phẩm", "thuc_pham", "1") or one product
    ("Nước mắm" -> Thực phẩm). None when it names neither or several products of different groups."""
    from core.reference import match_group
    g = match_group(text or "")
    if g is not None:
        return g
    groups = {h.product.group for h in lookup(text or "")}
    return group_by_id(groups.pop()) if len(groups) == 1 else None


def subgroup_of(text: str) -> str | None:
    """The sub-group id of the one product a typed text names ("nước mắm Phú Quốc" -> "nuoc_mam"),
    else None. The dossier walk proposes it for the producer to confirm (flows.dossier.subgroup_lookup)."""
    p = best(text)
    return p.subgroup if p else None
