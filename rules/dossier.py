"""Which dossier documents apply to a producer, which are required, and how ready they are.

Pure functions over plain data: no database, no templates, no routing. The documents themselves
are data (content/vi/dossier/documents.yml, loaded by flows/content.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Mapping

# profile keys a document condition may test
CONDITION_KEYS = ("goal", "producer", "group", "sub", "subgroup")

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


# --- where and when to file (QĐ 26/2026/QĐ-TTg, Điều 5.1, 7.1, 7.2) ------------------------------
COMMUNE_WORKING_DAYS = 15          # Điều 7.2: the commune has 15 working days before it forwards


@dataclass(frozen=True)
class NextRound:
    """The next provincial round a dossier filed now can reach.

    source "officer": a round an officer entered for the province (evaluation_rounds);
    source "calendar": the Điều 5.1 calendar (commune forwards before 30/4 → round before 30/6;
    before 30/10 → round before 30/12). `file_by` leaves the commune its 15 working days.
    """
    source: str
    name: str
    deadline: date                    # officer: registration deadline; calendar: commune forwarding date
    evaluation_by: date | None
    file_by: date | None = None
    where: str = ""
    number: int = 0                   # calendar round 1 or 2


def minus_working_days(day: date, n: int) -> date:
    """`n` working days (Mon–Fri) before `day`; public holidays are not known here."""
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def calendar_round(today: date) -> NextRound:
    """The next Điều 5.1 round whose commune forwarding date is still ahead."""
    for year in (today.year, today.year + 1):
        for number, (fwd, ev) in enumerate(((date(year, 4, 30), date(year, 6, 30)),
                                            (date(year, 10, 30), date(year, 12, 30))), start=1):
            if today < fwd:
                return NextRound("calendar", f"Đợt {number} năm {year}", fwd, ev,
                                 minus_working_days(fwd, COMMUNE_WORKING_DAYS), number=number)
    raise AssertionError("unreachable")


def next_round(today: date, officer_rounds=()) -> NextRound:
    """The officer-entered round if there is one (soonest deadline first), else the calendar.

    officer_rounds: objects with name, registration_deadline, evaluation_date, where_to_submit
    (storage.models.EvaluationRound), already filtered to the province and to deadlines ≥ today.
    """
    for r in sorted(officer_rounds, key=lambda r: r.registration_deadline):
        if r.registration_deadline >= today:
            return NextRound("officer", r.name, r.registration_deadline, r.evaluation_date,
                             where=r.where_to_submit or "")
    return calendar_round(today)
