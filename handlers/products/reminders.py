"""The reminder sweep: turns due certificate expiries and evaluation-round deadlines into rows.

One sweep, in ONE transaction:
1. select what is due on `today` (certificates of owners with an active identity, not muted,
   expiring between today - LOOKBACK_DAYS and today + max offset; rounds whose registration
   deadline is between today and today + max offset);
2. for each certificate (or round x recipient) take the passed offsets; the most relevant one (the
   smallest passed offset = the latest due date) becomes a `queued` reminder, older passed offsets
   become `skipped` rows (catch-up after downtime sends one message, not a burst);
3. INSERT … ON CONFLICT (key) DO NOTHING RETURNING: only rows this sweep really created get a
   delivery row (delivery key = reminder key), for the owner's most recently used active identity.
A second sweep, a concurrent sweep (PostgreSQL waits on the unique index, then does nothing) or a
sweep after a crash creates nothing twice. Sending is the delivery worker's job (delivery/).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import exists, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.dates import add_months
from core.messages import Button, Reply
from core.templates import render
from delivery.queue import enqueue_rows
from storage.models import Certificate, EvaluationRound, Identity, Reminder, Subscription, User, utcnow

log = logging.getLogger("ocop.reminders")

LOOKBACK_DAYS = 30           # certificates that expired longer ago get no (first) reminder
ROUND_TOPIC = "dot_danh_gia"
ROUND_HORIZON_MONTHS = 6     # owners of certificates expiring within 6 months of the round
CHUNK = 900


@dataclass
class Due:
    key: str
    kind: str                # cert | round
    ref_id: int
    user_id: int
    offset: int
    due_on: date
    reply: Reply | None = None
    skipped: list[tuple[str, int, date]] = field(default_factory=list)   # (key, offset, due_on)


@dataclass
class SweepResult:
    due: list[Due] = field(default_factory=list)    # reminders this sweep queues (or would, dry-run)
    created: int = 0                                # reminder rows inserted (queued + skipped)
    queued: int = 0
    skipped: int = 0
    enqueued: int = 0                               # delivery rows inserted
    selection_s: float = 0.0
    total_s: float = 0.0


def cert_key(cert_id: int, expires_on: date, offset: int) -> str:
    return f"cert:{cert_id}:{expires_on.isoformat()}:{offset}"


def round_key(round_id: int, user_id: int, offset: int) -> str:
    return f"round:{round_id}:{user_id}:{offset}"


def passed_offsets(target: date, offsets, today: date) -> list[int]:
    """Offsets whose due date (target - offset) is today or earlier, most relevant first."""
    return sorted(o for o in offsets if target - timedelta(days=o) <= today)


def _has_active_identity(user_col):
    return exists().where(Identity.user_id == user_col, Identity.active.is_(True))


def _not_opted_out(user_col):
    """Round reminders are news-like: /stop (users.opted_out) ends them. Expiry reminders are the
    owner's own service with a per-product mute, so they do not check this."""
    return ~exists().where(User.id == user_col, User.opted_out.is_(True))


# --- selection ------------------------------------------------------------------------------
async def due_certificates(session, offsets, today: date) -> list[Due]:
    if not offsets:
        return []
    q = (select(Certificate.id, Certificate.owner_user_id, Certificate.expires_on)
         .where(Certificate.expires_on >= today - timedelta(days=LOOKBACK_DAYS),
                Certificate.expires_on <= today + timedelta(days=max(offsets)),
                Certificate.owner_user_id.is_not(None), Certificate.muted.is_(False),
                _has_active_identity(Certificate.owner_user_id)))
    out = []
    for cid, owner, expires in (await session.execute(q)).all():
        passed = passed_offsets(expires, offsets, today)
        if not passed:
            continue
        first, rest = passed[0], passed[1:]
        out.append(Due(cert_key(cid, expires, first), "cert", cid, owner, first,
                       expires - timedelta(days=first),
                       skipped=[(cert_key(cid, expires, o), o, expires - timedelta(days=o)) for o in rest]))
    return out


async def round_recipients(session, rnd: EvaluationRound) -> dict[int, bool]:
    """user_id -> owns an expiring certificate (else: subscriber only)."""
    from handlers.products.repo import province_variants
    variants = province_variants(rnd.province)
    ref = rnd.evaluation_date or rnd.registration_deadline
    owners = await session.scalars(select(Certificate.owner_user_id).where(
        Certificate.province.in_(variants), Certificate.owner_user_id.is_not(None),
        Certificate.muted.is_(False), Certificate.expires_on <= add_months(ref, ROUND_HORIZON_MONTHS),
        _has_active_identity(Certificate.owner_user_id), _not_opted_out(Certificate.owner_user_id)))
    users = {u: True for u in owners}
    subs = await session.execute(select(Subscription.user_id, Subscription.topics).where(
        Subscription.active.is_(True), Subscription.province.in_(variants),
        _has_active_identity(Subscription.user_id), _not_opted_out(Subscription.user_id)))
    for uid, topics in subs.all():
        if ROUND_TOPIC in (topics or []):
            users.setdefault(uid, False)
    return users


async def due_rounds(session, offsets, today: date) -> list[tuple[Due, EvaluationRound, bool]]:
    if not offsets:
        return []
    rounds = await session.scalars(select(EvaluationRound).where(
        EvaluationRound.registration_deadline >= today,
        EvaluationRound.registration_deadline <= today + timedelta(days=max(offsets))))
    out = []
    for rnd in rounds:
        passed = passed_offsets(rnd.registration_deadline, offsets, today)
        if not passed:
            continue
        first, rest = passed[0], passed[1:]
        dl = rnd.registration_deadline
        for uid, owns in (await round_recipients(session, rnd)).items():
            due = Due(round_key(rnd.id, uid, first), "round", rnd.id, uid, first, dl - timedelta(days=first),
                      skipped=[(round_key(rnd.id, uid, o), o, dl - timedelta(days=o)) for o in rest])
            out.append((due, rnd, owns))
    return out


async def _existing_keys(session, keys: list[str]) -> set[str]:
    """Which of these reminder keys exist already (one indexed lookup or hash join, any table size)."""
    if not keys:
        return set()
    if session.bind.dialect.name == "postgresql":
        # one array parameter joined with unnest: a long "IN ($1 … $900)" list is compared linearly
        # row by row when the planner picks a sequential scan (stale statistics on a growing table)
        rows = await session.execute(text("SELECT r.key FROM reminders r JOIN unnest(CAST(:keys AS varchar[])) "
                                          "AS k(key) ON r.key = k.key"), {"keys": keys})
        return {r[0] for r in rows}
    found: set[str] = set()
    for i in range(0, len(keys), CHUNK):
        found.update(await session.scalars(select(Reminder.key).where(Reminder.key.in_(keys[i:i + CHUNK]))))
    return found


# --- messages ---------------------------------------------------------------------------------
def cert_reply(cert: Certificate, today: date) -> Reply:
    left = (cert.expires_on - today).days
    text = render("reminders/certificate", product=cert.product, stars=cert.stars,
                  decision_no=cert.decision_no, expires_on=cert.expires_on, days_left=left)
    return Reply(text, [[Button("📋 Chuẩn bị hồ sơ đánh giá lại", "d:start:reeval")],
                        [Button("🔕 Tắt nhắc", f"p:mute:{cert.id}"), Button("⭐ Sản phẩm của tôi", "p:list")]])


def round_reply(rnd: EvaluationRound, today: date, owns_expiring: bool) -> Reply:
    text = render("reminders/round", name=rnd.name, province=rnd.province,
                  deadline=rnd.registration_deadline, evaluation_date=rnd.evaluation_date,
                  where=rnd.where_to_submit, days_left=(rnd.registration_deadline - today).days,
                  owns_expiring=owns_expiring)
    first = (Button("📋 Chuẩn bị hồ sơ đánh giá lại", "d:start:reeval") if owns_expiring
             else Button("📋 Hướng dẫn hồ sơ", "m:hoso"))
    return Reply(text, [[first], [Button("📅 Các đợt đánh giá", "r:list")]])


async def _attach_replies(session, due: list[Due], rounds: dict[int, tuple], today: date) -> None:
    cert_ids = [d.ref_id for d in due if d.kind == "cert"]
    certs = {}
    for i in range(0, len(cert_ids), CHUNK):
        certs.update({c.id: c for c in await session.scalars(
            select(Certificate).where(Certificate.id.in_(cert_ids[i:i + CHUNK])))})
    for d in due:
        if d.kind == "cert":
            d.reply = cert_reply(certs[d.ref_id], today)
        else:
            rnd, owns = rounds[d.key]
            d.reply = round_reply(rnd, today, owns)


async def _identities(session, user_ids: set[int]) -> dict[int, Identity]:
    """Each user's most recently used active identity."""
    best: dict[int, Identity] = {}
    ids = sorted(user_ids)
    for i in range(0, len(ids), CHUNK):
        rows = await session.scalars(select(Identity).where(Identity.user_id.in_(ids[i:i + CHUNK]),
                                                            Identity.active.is_(True)))
        for ident in rows:
            cur = best.get(ident.user_id)
            if cur is None or (ident.last_interaction_at, ident.id) > (cur.last_interaction_at, cur.id):
                best[ident.user_id] = ident
    return best


# --- the sweep ----------------------------------------------------------------------------------
async def _insert_reminders(session, due: list[Due]) -> tuple[set[str], int]:
    """Insert queued + skipped rows; returns (queued keys really inserted, skipped inserted)."""
    now = utcnow()
    rows = []
    for d in due:
        rows.append(dict(key=d.key, kind=d.kind, ref_id=d.ref_id, user_id=d.user_id, offset_days=d.offset,
                         due_on=d.due_on, status="queued", created_at=now))
        rows.extend(dict(key=k, kind=d.kind, ref_id=d.ref_id, user_id=d.user_id, offset_days=o, due_on=on,
                         status="skipped", created_at=now) for k, o, on in d.skipped)
    ins = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = ins(Reminder).on_conflict_do_nothing(index_elements=["key"]).returning(Reminder.key, Reminder.status)
    queued, skipped = set(), 0
    for i in range(0, len(rows), 5000):        # executemany ("insertmanyvalues"): compiled once, batched
        for key, status in (await session.execute(stmt, rows[i:i + 5000])).all():
            if status == "queued":
                queued.add(key)
            else:
                skipped += 1
    return queued, skipped


async def sweep(session, settings, today: date, *, dry_run: bool = False) -> SweepResult:
    """Create due reminders and their delivery rows (the caller commits). dry_run writes nothing."""
    started = time.perf_counter()
    res = SweepResult()
    due = await due_certificates(session, settings.expiry_offsets, today)
    round_due = await due_rounds(session, settings.round_offsets, today)
    due += [d for d, _r, _o in round_due]
    existing = await _existing_keys(session, [d.key for d in due])
    due = [d for d in due if d.key not in existing]
    res.selection_s = time.perf_counter() - started
    if due:
        await _attach_replies(session, due, {d.key: (r, o) for d, r, o in round_due}, today)
    if dry_run:
        res.due = due
        res.total_s = time.perf_counter() - started
        return res
    queued_keys, res.skipped = await _insert_reminders(session, due)
    res.due = [d for d in due if d.key in queued_keys]
    res.queued = len(res.due)
    res.created = res.queued + res.skipped
    idents = await _identities(session, {d.user_id for d in res.due})
    rows = [dict(key=d.key, kind="reminder", identity_id=idents[d.user_id].id,
                 channel=idents[d.user_id].channel, chat_id=idents[d.user_id].chat_id,
                 payload=d.reply.to_payload()) for d in res.due if d.user_id in idents]
    res.enqueued = await enqueue_rows(session, rows)
    res.total_s = time.perf_counter() - started
    return res


async def sweep_job(core) -> SweepResult:
    """Scheduled (cron at settings.reminder_time and at start-up): sweep, commit, wake the worker."""
    today = core.today()
    async with core.sessionmaker() as session, session.begin():
        res = await sweep(session, core.settings, today)
    log.info(json.dumps({"ev": "reminder_sweep", "today": today.isoformat(), "queued": res.queued,
                         "skipped": res.skipped, "enqueued": res.enqueued,
                         "selection_ms": round(res.selection_s * 1000, 1), "total_ms": round(res.total_s * 1000, 1)}))
    worker = core.services.get("worker")
    if worker is not None and res.enqueued:
        worker.wakeup.set()
    return res


def cron_from(reminder_time: str) -> dict:
    """'08:00' -> {'hour': 8, 'minute': 0} (bad values fall back to 08:00)."""
    try:
        hour, minute = (int(p) for p in reminder_time.strip().split(":", 1))
        if 0 <= hour < 24 and 0 <= minute < 60:
            return {"hour": hour, "minute": minute}
    except (ValueError, AttributeError):
        pass
    return {"hour": 8, "minute": 0}


def schedule(router) -> None:
    """Daily at REMINDER_TIME (settings.timezone) and once at start-up to catch up."""
    from core.config import load_settings
    router.job("reminder_sweep", sweep_job, cron=cron_from(load_settings().reminder_time), run_at_start=True)
