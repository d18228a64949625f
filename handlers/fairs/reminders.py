"""Fair reminders (a core.reminders Source): 7 and 1 days before the registration deadline, to
subscribers of "hội chợ" in the fair's province or with one of its product groups."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.messages import Button, Reply
from core.permissions import province_name
from core.reminders import Due, Source, due_before, has_active_identity, not_opted_out
from core.templates import label, reply
from handlers.fairs.repo import REMIND_DAYS
from storage.models import Fair, Subscription

TOPIC = "hoi_cho"


def fair_key(fair_id: int, user_id: int, offset: int) -> str:
    return f"fair:{fair_id}:{offset}:{user_id}"


async def due_fairs(session, settings, today: date) -> list[Due]:
    fairs = list(await session.scalars(select(Fair).where(
        Fair.registration_deadline >= today,
        Fair.registration_deadline <= today + timedelta(days=max(REMIND_DAYS)))))
    if not fairs:
        return []
    subs = [s for s in await session.scalars(select(Subscription).where(
        Subscription.active.is_(True), has_active_identity(Subscription.user_id),
        not_opted_out(Subscription.user_id))) if TOPIC in (s.topics or [])]
    out = []
    for fair in fairs:
        for sub in subs:
            if sub.province != fair.province and not set(fair.target_groups or []) & set(sub.groups or []):
                continue
            d = due_before("fair", fair.id, sub.user_id, fair.registration_deadline, REMIND_DAYS, today,
                           lambda o, f=fair.id, u=sub.user_id: fair_key(f, u, o), context=fair)
            if d is not None:
                out.append(d)
    return out


def fair_reply(fair: Fair, today: date) -> Reply:
    return reply("fairs/reminder", [[Button(label("fairs.details"), f"f:d:{fair.id}")]], f=fair,
                 province=province_name(fair.province), days=(fair.registration_deadline - today).days)


async def attach(session, due: list[Due], today: date) -> None:
    for d in due:
        d.reply = fair_reply(d.context, today)


SOURCE = Source("fair", due_fairs, attach)
