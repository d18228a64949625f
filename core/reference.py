"""Reference data from content/data: the 34 provinces (old names mapped), the 6 product groups and the
26 sub-groups of Decision 26/2026, Phụ lục I (subgroups.yml; each has its score sheet of Phụ lục II)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from core.config import ROOT
from core.text import fold

DATA = ROOT / "content" / "data"


@dataclass(frozen=True)
class Province:
    id: str
    name: str
    formed_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProvinceMatch:
    province: Province
    typed_old_name: str = ""        # "Tiền Giang" when the user typed a merged old unit

    @property
    def note(self) -> str:
        """'Tiền Giang nay thuộc tỉnh Đồng Tháp' when an old name was mapped, else ''."""
        if not self.typed_old_name:
            return ""
        return f"{self.typed_old_name} nay thuộc {self.province_label}"

    @property
    def province_label(self) -> str:
        return province_label(self.province)


def province_label(p: Province) -> str:
    cities = {"ha_noi", "hue", "hai_phong", "da_nang", "ho_chi_minh", "can_tho"}
    return f"{'thành phố' if p.id in cities else 'tỉnh'} {p.name}"


@lru_cache(maxsize=1)
def _load():
    raw = yaml.safe_load((DATA / "provinces.yml").read_text(encoding="utf-8"))
    provinces = [Province(p["id"], p["name"], tuple(p.get("formed_from", []))) for p in raw["provinces"]]
    index: dict[str, tuple[Province, str]] = {}
    for p, entry in zip(provinces, raw["provinces"]):
        for old in p.formed_from:
            if fold(old) != fold(p.name):
                index[fold(old)] = (p, old)
        for alias in entry.get("aliases", []):
            index.setdefault(fold(alias), (p, ""))
        index[fold(p.name)] = (p, "")
        index[p.id.replace("_", " ")] = (p, "")
    return provinces, index


def all_provinces() -> list[Province]:
    return list(_load()[0])


def province_by_id(pid: str) -> Province | None:
    return next((p for p in _load()[0] if p.id == pid), None)


@lru_cache(maxsize=1024)
def province_id_of(value: str | None) -> str | None:
    """A stored or typed province (id, official name, old name) as its id; None when unknown or empty."""
    if not value:
        return None
    if province_by_id(value):
        return value
    m = match_province(value)
    return m.province.id if m else None


def province_name(pid: str | None) -> str:
    """The official name to show for a province id ("dong_thap" -> "Đồng Tháp"); other values unchanged."""
    p = province_by_id(pid or "")
    return p.name if p else (pid or "")


def province_by_name(name: str) -> Province | None:
    m = match_province(name)
    return m.province if m else None


def match_province(text: str) -> ProvinceMatch | None:
    """Recognise a province typed any usual way ('tien giang', 'TP HCM', 'Tỉnh Đắk Lắk')."""
    t = fold(text).replace("-", " ").replace("–", " ").replace(".", " ")
    t = " ".join(t.split())
    for prefix in ("thanh pho ", "tp. ", "tp ", "tinh "):
        if t.startswith(prefix) and t[len(prefix):] in _load()[1]:
            t = t[len(prefix):]
            break
    hit = _load()[1].get(t) or _load()[1].get(t.replace(" ", ""))
    if hit is None:
        compact = {k.replace(" ", ""): v for k, v in _load()[1].items()}
        hit = compact.get(t.replace(" ", ""))
    if hit is None:
        return None
    p, old = hit
    return ProvinceMatch(p, old)


@dataclass(frozen=True)
class Group:
    id: str
    name: str


@lru_cache(maxsize=1)
def _groups():
    raw = yaml.safe_load((DATA / "groups.yml").read_text(encoding="utf-8"))
    groups = [Group(g["id"], g["name"]) for g in raw["groups"]]
    index = {}
    for g, entry in zip(groups, raw["groups"]):
        index[fold(g.name)] = g
        index[g.id.replace("_", " ")] = g
        index[g.id] = g
        for a in entry.get("aliases", []):
            index.setdefault(fold(a), g)
    return groups, index


def all_groups() -> list[Group]:
    return list(_groups()[0])


def group_by_id(gid: str) -> Group | None:
    return next((g for g in _groups()[0] if g.id == gid), None)


def match_group(text: str) -> Group | None:
    """'thực phẩm', 'thuc pham', 'thuc_pham', '1'..'6' -> Group."""
    t = fold(text).strip()
    if t.isdigit() and 1 <= int(t) <= len(_groups()[0]):
        return _groups()[0][int(t) - 1]
    return _groups()[1].get(t)


@dataclass(frozen=True)
class SubGroup:
    id: str
    sheet: int                        # its score sheet in Phụ lục II (1–26)
    group: str                        # a Group id
    category_id: str                  # the "nhóm" of Phụ lục I
    category: str
    name: str                         # the "phân nhóm"
    ministry: tuple[str, ...] = ()    # codes of the lead ministries (ministry_name)
    sheet_title: str = ""


@lru_cache(maxsize=1)
def _subgroups() -> tuple[tuple[SubGroup, ...], dict[str, str]]:
    raw = yaml.safe_load((DATA / "subgroups.yml").read_text(encoding="utf-8"))
    subs = tuple(SubGroup(s["id"], int(s["sheet"]), s["group"], s["category_id"], s["category"], s["name"],
                          tuple(s.get("ministry") or ()), s.get("sheet_title", "")) for s in raw["subgroups"])
    return subs, dict(raw["ministries"])


def all_subgroups() -> tuple[SubGroup, ...]:
    """In the annex's order."""
    return _subgroups()[0]


def subgroup_by_id(sid: str) -> SubGroup | None:
    return next((s for s in _subgroups()[0] if s.id == sid), None)


def ministry_name(code: str) -> str:
    """'BCT' -> 'Bộ Công Thương'."""
    return _subgroups()[1][code]
