"""Evaluation-round reminders (a core.reminders Source): 14/7/1 days before the registration deadline,
to owners of certificates expiring around the round and to subscribers of the topic."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.dates import add_months
from core.messages import Button, Reply
from core.reminders import Due, Source, due_before, has_active_identity, not_opted_out
from core.templates import render
from storage.models import Certificate, EvaluationRound, Subscription

ROUND_TOPIC = "dot_danh_gia"
ROUND_HORIZON_MONTHS = 6     # owners of certificates expiring within 6 months of the round


def round_key(round_id: int, user_id: int, offset: int) -> str:
    return f"round:{round_id}:{user_id}:{offset}"


async def round_recipients(session, rnd: EvaluationRound) -> dict[int, bool]:
    """user_id -> owns an expiring certificate (else: subscriber only)."""
    from handlers.products.repo import province_variants
    variants = province_variants(rnd.province)
    ref = rnd.evaluation_date or rnd.registration_deadline
    owners = await session.scalars(select(Certificate.owner_user_id).where(
        Certificate.province.in_(variants), Certificate.owner_user_id.is_not(None),
        Certificate.muted.is_(False), Certificate.expires_on <= add_months(ref, ROUND_HORIZON_MONTHS),
        has_active_identity(Certificate.owner_user_id), not_opted_out(Certificate.owner_user_id)))
    users = {u: True for u in owners}
    subs = await session.execute(select(Subscription.user_id, Subscription.topics).where(
        Subscription.active.is_(True), Subscription.province.in_(variants),
        has_active_identity(Subscription.user_id), not_opted_out(Subscription.user_id)))
    for uid, topics in subs.all():
        if ROUND_TOPIC in (topics or []):
            users.setdefault(uid, False)
    return users


async def due_rounds(session, settings, today: date) -> list[Due]:
    offsets = settings.round_offsets
    if not offsets:
        return []
    rounds = await session.scalars(select(EvaluationRound).where(
        EvaluationRound.registration_deadline >= today,
        EvaluationRound.registration_deadline <= today + timedelta(days=max(offsets))))
    out = []
    for rnd in rounds:
        if not any(rnd.registration_deadline - timedelta(days=o) <= today for o in offsets):
            continue
        for uid, owns in (await round_recipients(session, rnd)).items():
            d = due_before("round", rnd.id, uid, rnd.registration_deadline, offsets, today,
                           lambda o, r=rnd.id, u=uid: round_key(r, u, o), context=(rnd, owns))
            out.append(d)
    return out


def round_reply(rnd: EvaluationRound, today: date, owns_expiring: bool) -> Reply:
    text = render("reminders/round", name=rnd.name, province=rnd.province,
                  deadline=rnd.registration_deadline, evaluation_date=rnd.evaluation_date,
                  where=rnd.where_to_submit, days_left=(rnd.registration_deadline - today).days,
                  owns_expiring=owns_expiring)
    first = (Button("📋 Chuẩn bị hồ sơ đánh giá lại", "d:start:reeval") if owns_expiring
             else Button("📋 Hướng dẫn hồ sơ", "m:hoso"))
    return Reply(text, [[first], [Button("📅 Các đợt đánh giá", "r:list")]])


async def attach(session, due: list[Due], today: date) -> None:
    for d in due:
        rnd, owns = d.context
        d.reply = round_reply(rnd, today, owns)


SOURCE = Source("round", due_rounds, attach)
