"""Evaluation rounds (đợt đánh giá): creation with validation and the upcoming-rounds query.

`upcoming_rounds(session, province, today)` is public: the fairs feature (menu "hoicho") uses it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from core.dates import DateError, parse_vn_date
from core.permissions import province_id_of
from core.templates import validation
from storage.models import EvaluationRound, utcnow


@dataclass
class RoundInput:
    province: str                 # province id
    name: str
    deadline: date
    evaluation_date: date | None = None
    where: str = ""


class RoundError(ValueError):
    """A field of a round that is not right: `field` (province, name, deadline, evaluation) and a
    Vietnamese message (str(exc))."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def parse_future(text: str, today: date) -> date:
    """A registration deadline: a real date, not past. Raises DateError."""
    d = parse_vn_date(text)
    if d < today:
        raise DateError(validation("dates.past", what=validation("rounds.deadline"), date=f"{d:%d/%m/%Y}"))
    return d


def check_round(province: str, name: str, deadline, evaluation_date, where: str, today: date) -> RoundInput:
    """Validate officer input; raises RoundError naming the field, with a Vietnamese message."""
    prov = province_id_of((province or "").strip())
    if prov is None:
        raise RoundError("province", validation("rounds.province_unknown", value=(province or "").strip()[:40]))
    name = " ".join((name or "").split())
    if not 3 <= len(name) <= 200:
        raise RoundError("name", validation("rounds.name_length"))
    try:
        dl = deadline if isinstance(deadline, date) else parse_future(deadline, today)
    except DateError as exc:
        raise RoundError("deadline", str(exc)) from None
    ev = None
    if evaluation_date and str(evaluation_date).strip() not in ("-", ""):
        try:
            ev = evaluation_date if isinstance(evaluation_date, date) else parse_vn_date(evaluation_date)
        except DateError as exc:
            raise RoundError("evaluation", str(exc)) from None
        if ev < dl:
            raise RoundError("evaluation", validation("rounds.evaluation_before_deadline"))
    where = " ".join((where or "").split())
    if where == "-":
        where = ""
    return RoundInput(prov, name, dl, ev, where[:300])


async def find_round(session, data: RoundInput) -> EvaluationRound | None:
    """The same round typed again (province, name, deadline): updated instead of doubled."""
    return await session.scalar(select(EvaluationRound).where(
        EvaluationRound.province == data.province, EvaluationRound.name == data.name,
        EvaluationRound.registration_deadline == data.deadline).limit(1))


async def create_round(session, data: RoundInput, created_by: int | None = None) -> EvaluationRound:
    """Add a round; the same round sent twice is updated in place (reminders are not doubled)."""
    rnd = await find_round(session, data)
    if rnd is not None:
        rnd.evaluation_date = data.evaluation_date or rnd.evaluation_date
        rnd.where_to_submit = data.where or rnd.where_to_submit
        await session.flush()
        return rnd
    rnd = EvaluationRound(province=data.province, name=data.name, registration_deadline=data.deadline,
                          evaluation_date=data.evaluation_date, where_to_submit=data.where,
                          created_by=created_by, created_at=utcnow())
    session.add(rnd)
    await session.flush()
    return rnd


async def upcoming_rounds(session, province: str | None, today: date) -> list[EvaluationRound]:
    """Rounds of a province (id) whose registration deadline is today or later, soonest first."""
    if not province:
        return []
    rows = await session.scalars(select(EvaluationRound).where(
        EvaluationRound.province == province,
        EvaluationRound.registration_deadline >= today).order_by(EvaluationRound.registration_deadline,
                                                                 EvaluationRound.id))
    return list(rows)
