"""Evaluation-round reminders (a core.reminders Source): 14/7/1 days before the registration deadline,
to owners of certificates expiring around the round and to subscribers of the topic."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.dates import add_months
from core.messages import Button, Reply
from core.reference import province_by_id, province_name
from core.reminders import Due, Source, due_before, has_active_identity, not_opted_out
from core.templates import label, reply
from storage.models import Certificate, EvaluationRound, Subscription

ROUND_TOPIC = "dot_danh_gia"
COMMUNE_DAYS = 15            # QĐ 26/2026 Điều 6.2: the commune checks the dossier within 15 working days
ROUND_HORIZON_MONTHS = 6     # owners of certificates expiring within 6 months of the round


def round_key(round_id, user_id: int, offset: int) -> str:
    return f"round:{round_id}:{user_id}:{offset}"


def minus_working_days(d: date, n: int) -> date:
    """`n` working days (Monday–Friday; public holidays not counted) before `d`."""
    while n:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def calendar_deadlines(today: date, horizon: int) -> list[tuple[date, date, str]]:
    """QĐ 26/2026 Điều 5: the commune forwards dossiers before 30/4 (round 1) and 30/10 (round 2); the
    producer files at the UBND xã 15 working days earlier. [(producer deadline, commune deadline,
    name)] with the producer deadline within [today, today + horizon]."""
    out = []
    for year in (today.year, today.year + 1):
        for n, (m, dd) in enumerate(((4, 30), (10, 30)), 1):
            commune = date(year, m, dd)
            dl = minus_working_days(commune, COMMUNE_DAYS)
            if today <= dl <= today + timedelta(days=horizon):
                out.append((dl, commune, f"Đợt {n} năm {year}"))
    return out


async def calendar_rounds(session, offsets, today: date) -> list[Due]:
    """Round reminders from the Điều 5 calendar for provinces where officers entered no round near
    that deadline (±60 days)."""
    from types import SimpleNamespace

    deadlines = calendar_deadlines(today, max(offsets))
    if not deadlines:
        return []
    provinces = set(await session.scalars(select(Subscription.province).where(Subscription.active.is_(True)).distinct()))
    provinces |= set(await session.scalars(select(Certificate.province).where(
        Certificate.owner_user_id.is_not(None)).distinct()))
    provinces = {p for p in provinces if province_by_id(p or "")}
    out = []
    for dl, commune, name in deadlines:
        if not any(dl - timedelta(days=o) <= today for o in offsets):
            continue
        officer = set(await session.scalars(select(EvaluationRound.province).where(
            EvaluationRound.registration_deadline >= dl - timedelta(days=60),
            EvaluationRound.registration_deadline <= commune + timedelta(days=60))))
        for prov in sorted(provinces - officer):
            rnd = SimpleNamespace(id=f"cal{dl:%Y%m%d}", province=prov, registration_deadline=dl, evaluation_date=None,
                                  name=f"{name} (lịch theo QĐ 26/2026 Điều 5)", commune_deadline=commune,
                                  where_to_submit="UBND xã/phường nơi sản xuất")
            for uid, owns in (await round_recipients(session, rnd)).items():
                out.append(due_before("round", 0, uid, dl, offsets, today,
                                      lambda o, r=rnd.id, u=uid: round_key(r, u, o), context=(rnd, owns)))
    return out


async def round_recipients(session, rnd: EvaluationRound) -> dict[int, bool]:
    """user_id -> owns an expiring certificate (else: subscriber only)."""
    ref = rnd.evaluation_date or rnd.registration_deadline
    owners = await session.scalars(select(Certificate.owner_user_id).where(
        Certificate.province == rnd.province, Certificate.owner_user_id.is_not(None),
        Certificate.muted.is_(False), Certificate.expires_on <= add_months(ref, ROUND_HORIZON_MONTHS),
        has_active_identity(Certificate.owner_user_id), not_opted_out(Certificate.owner_user_id)))
    users = {u: True for u in owners}
    subs = await session.execute(select(Subscription.user_id, Subscription.topics).where(
        Subscription.active.is_(True), Subscription.province == rnd.province,
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
    return out + await calendar_rounds(session, offsets, today)


def round_reply(rnd: EvaluationRound, today: date, owns_expiring: bool) -> Reply:
    first = (Button(label("common.prepare_reeval"), "d:start:reeval") if owns_expiring
             else Button(label("rounds.dossier"), "m:hoso"))
    return reply("reminders/round", [[first], [Button(label("rounds.list"), "r:list")]],
                 name=rnd.name, province=province_name(rnd.province), deadline=rnd.registration_deadline,
                 evaluation_date=rnd.evaluation_date, where=rnd.where_to_submit,
                 days_left=(rnd.registration_deadline - today).days, owns_expiring=owns_expiring,
                 commune_deadline=getattr(rnd, "commune_deadline", None))


async def attach(session, due: list[Due], today: date) -> None:
    for d in due:
        rnd, owns = d.context
        d.reply = round_reply(rnd, today, owns)


SOURCE = Source("round", due_rounds, attach)
