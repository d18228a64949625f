"""Which dossier documents apply to a producer, which are required, and how ready they are.

Pure functions over plain data: no database, no templates, no routing. The documents themselves
are data (content/vi/dossier/documents.yml, loaded by flows/content.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

# profile keys a document condition may test
CONDITION_KEYS = ("goal", "producer", "group", "sub")

HAVE, MISSING, UNANSWERED = "co", "chua", ""


@dataclass(frozen=True)
class Document:
    id: str
    name: str
    description: str
    why: str
    issuer: str
    source: str
    url: str = ""
    more: str = ""
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)        # all must match
    unless: Mapping[str, tuple[str, ...]] = field(default_factory=dict)      # none may match
    required: bool = False
    required_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _matches(conds: Mapping[str, tuple[str, ...]], profile: Mapping[str, str]) -> bool:
    """Every key in conds has the profile's value among its allowed values."""
    return all(profile.get(k, "") in allowed for k, allowed in conds.items())


def _hits_any(conds: Mapping[str, tuple[str, ...]], profile: Mapping[str, str]) -> bool:
    return any(profile.get(k, "") in banned for k, banned in conds.items())


def applies(doc: Document, profile: Mapping[str, str]) -> bool:
    """True when the document is part of this producer's dossier."""
    return _matches(doc.when, profile) and not _hits_any(doc.unless, profile)


def is_required(doc: Document, profile: Mapping[str, str]) -> bool:
    """Required only where the fact sheet supports it; otherwise 'recommended'."""
    if doc.required_when:
        return _matches(doc.required_when, profile)
    return doc.required


def applicable(docs: list[Document], profile: Mapping[str, str]) -> list[Document]:
    """The documents that apply, in content order."""
    return [d for d in docs if applies(d, profile)]


@dataclass(frozen=True)
class Item:
    doc: Document
    required: bool
    status: str            # co | chua | "" (not answered yet)


@dataclass(frozen=True)
class Checklist:
    items: tuple[Item, ...]

    @property
    def have(self) -> list[Item]:
        return [i for i in self.items if i.status == HAVE]

    @property
    def missing(self) -> list[Item]:
        return [i for i in self.items if i.status != HAVE]

    @property
    def required_total(self) -> int:
        return sum(1 for i in self.items if i.required)

    @property
    def required_ready(self) -> int:
        return sum(1 for i in self.items if i.required and i.status == HAVE)

    @property
    def complete(self) -> bool:
        return all(i.status for i in self.items)

    def ids(self, status: str | None = None) -> set[str]:
        return {i.doc.id for i in self.items if status is None or i.status == status}


def checklist(docs: list[Document], profile: Mapping[str, str], statuses: Mapping[str, str]) -> Checklist:
    """The personal checklist: each applicable document with required flag and the user's answer."""
    return Checklist(tuple(Item(d, is_required(d, profile), statuses.get(d.id, UNANSWERED))
                           for d in applicable(docs, profile)))
