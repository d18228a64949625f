"""Loads the dossier content (documents.yml, questions.yml) into plain objects, once; the sub-groups
(content/data/subgroups.yml) come from core.reference."""
from __future__ import annotations

from functools import lru_cache

import yaml

from core.config import ROOT
from core.reference import SubGroup, all_subgroups, ministry_name, subgroup_by_id
from rules.dossier import CONDITION_KEYS, Document

CONTENT = ROOT / "content" / "vi" / "dossier"


def _conds(raw: dict | None, where: str) -> dict[str, tuple[str, ...]]:
    out = {}
    for key, values in (raw or {}).items():
        if key not in CONDITION_KEYS:
            raise ValueError(f"{where}: unknown condition key {key!r}")
        out[key] = tuple(str(v) for v in (values if isinstance(values, list) else [values]))
    return out


def parse_documents(raw: dict) -> list[Document]:
    docs = []
    for entry in raw["documents"]:
        where = f"documents.yml:{entry.get('id')}"
        docs.append(Document(
            id=entry["id"], name=entry["name"], description=entry["description"], why=entry["why"],
            issuer=entry["issuer"], source=entry["source"], url=entry.get("url", ""),
            more=entry.get("more", ""), when=_conds(entry.get("when"), where),
            unless=_conds(entry.get("unless"), where), required=bool(entry.get("required", False)),
            required_when=_conds(entry.get("required_when"), where)))
    return docs


@lru_cache(maxsize=1)
def documents() -> tuple[Document, ...]:
    raw = yaml.safe_load((CONTENT / "documents.yml").read_text(encoding="utf-8"))
    return tuple(parse_documents(raw))


def document(doc_id: str) -> Document | None:
    return next((d for d in documents() if d.id == doc_id), None)


@lru_cache(maxsize=1)
def questions() -> dict:
    return yaml.safe_load((CONTENT / "questions.yml").read_text(encoding="utf-8"))


def subgroups() -> tuple[SubGroup, ...]:
    return all_subgroups()


def subgroup(sub_id: str) -> SubGroup | None:
    return subgroup_by_id(sub_id)


def categories(group: str | None = None) -> list[str]:
    """Category ids ("nhóm" of Phụ lục I) in annex order, optionally of one product group."""
    out: list[str] = []
    for s in all_subgroups():
        if (group is None or s.group == group) and s.category_id not in out:
            out.append(s.category_id)
    return out


def subgroups_of(category: str) -> list[str]:
    return [s.id for s in all_subgroups() if s.category_id == category]


def ministries(sub_id: str) -> list[str]:
    sub = subgroup_by_id(sub_id)
    return [ministry_name(m) for m in sub.ministry] if sub else []


def title(node: str) -> str:
    return questions()[node]["title"]


def label(node: str, option: str) -> str:
    """Button label: questions.yml, else (category / subgroup nodes) the Phụ lục I wording."""
    options = questions()[node].get("options") or {}
    if option in options:
        return options[option]
    if node == "category":
        return next(s.category for s in all_subgroups() if s.category_id == option)
    if node == "subgroup":
        return subgroup_by_id(option).name
    raise KeyError(f"{node}:{option}")


def button(key: str) -> str:
    return questions()["buttons"][key]


__all__ = ["documents", "document", "questions", "title", "label", "button", "parse_documents",
           "subgroups", "subgroup", "categories", "subgroups_of", "ministries"]
