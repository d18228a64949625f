"""export-questions: answered questions that officers marked as FAQ candidates, for content editors."""
from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from core.permissions import province_name
from storage.models import OfficerQuestion

FIELDS = ["id", "province", "question", "answer", "answered_at", "answered_by"]


async def faq_candidates(session, include_all: bool = False) -> list[dict]:
    q = select(OfficerQuestion).where(OfficerQuestion.status == "answered")
    if not include_all:
        q = q.where(OfficerQuestion.faq_candidate.is_(True))
    out = []
    for x in await session.scalars(q.order_by(OfficerQuestion.id)):
        out.append({"id": x.id, "province": province_name(x.province) if x.province else "",
                    "question": x.question, "answer": x.answer or "",
                    "answered_at": x.answered_at.isoformat() if x.answered_at else "", "answered_by": x.answered_by})
    return out


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)
