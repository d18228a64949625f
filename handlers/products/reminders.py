"""The reminder sweep: turns due certificate expiries and evaluation-round deadlines into rows.

Offsets sit around the re-evaluation filing window of QĐ 26/2026 Điều 7.6a (the dossier is filed no
earlier than 180 and no later than 120 days before expiry): every certificate reminder states that
window's dates and the Điều 12.3 extension (certificate kept until the decision, at most 180 days
after expiry). A certificate first seen when its window has already closed gets ONE honest message
(key `cert:<id>:<expiry>:late`), not the old sequence.

One sweep, in ONE transaction:
1. select what is due on `today` (every certificate that is not muted — claimed or not — expiring
   between today - LOOKBACK_DAYS and today + max offset; rounds whose registration deadline is
   between today and today + max offset, and where officers entered no round, the Điều 5 calendar);
2. for each certificate (or round x recipient) take the passed offsets; the most relevant one (the
   smallest passed offset = the latest due date) becomes a `queued` reminder, older passed offsets
   become `skipped` rows (catch-up after downtime sends one message, not a burst);
3. INSERT … ON CONFLICT (key) DO NOTHING RETURNING: only rows this sweep really created get their
   first route (handlers/reach/chain.py: Telegram → Zalo → ZNS by phone → the officers' call list;
   the first delivery row's key is the reminder key).
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
from storage.models import Certificate, EvaluationRound, Identity, Reminder, Subscription, User, utcnow

log = logging.getLogger("ocop.reminders")

LOOKBACK_DAYS = 30           # certificates that expired longer ago get no (first) reminder
WINDOW_OPENS = 180           # QĐ 26/2026 Điều 7.6a: file no earlier than 180 days before expiry …
WINDOW_CLOSES = 120          # … and no later than 120 days before
EXTENSION_DAYS = 180         # Điều 12.3: kept until the decision, at most 180 days after expiry
COMMUNE_DAYS = 15            # Điều 6.2: the commune checks the dossier within 15 working days
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
    late: bool = False       # the filing window had closed before any reminder: the one honest message


@dataclass
class SweepResult:
    due: list[Due] = field(default_factory=list)    # reminders this sweep queues (or would, dry-run)
    created: int = 0                                # reminder rows inserted (queued + skipped)
    queued: int = 0
    skipped: int = 0
    enqueued: int = 0                               # delivery rows inserted (first routes)
    call_listed: int = 0                            # reminders with no route: on the call list
    repaired: int = 0                               # chains moved on by reconcile
    selection_s: float = 0.0
    total_s: float = 0.0


def cert_key(cert_id: int, expires_on: date, offset: int) -> str:
    return f"cert:{cert_id}:{expires_on.isoformat()}:{offset}"


def late_key(cert_id: int, expires_on: date) -> str:
    return f"cert:{cert_id}:{expires_on.isoformat()}:late"


def round_key(round_id, user_id: int, offset: int) -> str:
    return f"round:{round_id}:{user_id}:{offset}"


def window(expires_on: date) -> tuple[date, date, date]:
    """(window opens, window closes, extension until) for a certificate expiring on `expires_on`."""
    return (expires_on - timedelta(days=WINDOW_OPENS), expires_on - timedelta(days=WINDOW_CLOSES),
            expires_on + timedelta(days=EXTENSION_DAYS))


def minus_working_days(d: date, n: int) -> date:
    """`n` working days (Monday–Friday; public holidays not counted) before `d`."""
    while n:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def calendar_deadlines(today: date, horizon: int) -> list[tuple[date, date, str]]:
    """QĐ 26/2026 Điều 5: the commune forwards dossiers before 30/4 (round 1) and 30/10 (round 2);
    the producer files at the UBND xã 15 working days earlier. [(producer deadline, commune
    deadline, round name)] with the producer deadline within [today, today + horizon]."""
    out = []
    for year in (today.year, today.year + 1):
        for n, (m, dd) in enumerate(((4, 30), (10, 30)), 1):
            commune = date(year, m, dd)
            dl = minus_working_days(commune, COMMUNE_DAYS)
            if today <= dl <= today + timedelta(days=horizon):
                out.append((dl, commune, f"Đợt {n} năm {year}"))
    return out


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
    """Due certificate reminders (claimed or not: the route chain finds a way or the call list)."""
    if not offsets:
        return []
    q = (select(Certificate.id, Certificate.owner_user_id, Certificate.expires_on)
         .where(Certificate.expires_on >= today - timedelta(days=LOOKBACK_DAYS),
                Certificate.expires_on <= today + timedelta(days=max(max(offsets), WINDOW_CLOSES)),
                Certificate.muted.is_(False)))
    found = [(cid, owner, exp, passed_offsets(exp, offsets, today)) for cid, owner, exp in (await session.execute(q)).all()]
    # a certificate whose window closed: has it had any reminder for this expiry? (indexed key lookups)
    closed = [(cid, exp) for cid, _o, exp, _p in found if today > window(exp)[1]]
    history = await _existing_keys(session, [k for cid, exp in closed
                                             for k in [late_key(cid, exp)] + [cert_key(cid, exp, o) for o in offsets]])
    out = []
    for cid, owner, expires, passed in found:
        if today > window(expires)[1]:
            if late_key(cid, expires) in history:
                continue                     # the honest message was sent: nothing more
            if not any(cert_key(cid, expires, o) in history for o in offsets):
                out.append(Due(late_key(cid, expires), "cert", cid, owner, (expires - today).days, today, late=True,
                               skipped=[(cert_key(cid, expires, o), o, expires - timedelta(days=o)) for o in passed]))
                continue
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


async def calendar_rounds(session, offsets, today: date) -> list[tuple[Due, object, bool]]:
    """Round reminders from the Điều 5 calendar for provinces where officers entered no round
    near that deadline (±60 days)."""
    from types import SimpleNamespace

    from handlers.products.repo import province_name
    if not offsets:
        return []
    deadlines = calendar_deadlines(today, max(offsets))
    if not deadlines:
        return []
    provinces = set()
    for p in await session.scalars(select(Subscription.province).where(Subscription.active.is_(True)).distinct()):
        provinces.add(province_name(p))
    for p in await session.scalars(select(Certificate.province).where(Certificate.owner_user_id.is_not(None)).distinct()):
        provinces.add(province_name(p))
    provinces.discard(None)
    out = []
    for dl, commune, name in deadlines:
        officer = {province_name(p) for p in await session.scalars(select(EvaluationRound.province).where(
            EvaluationRound.registration_deadline >= dl - timedelta(days=60),
            EvaluationRound.registration_deadline <= commune + timedelta(days=60)))}
        passed = passed_offsets(dl, offsets, today)
        if not passed:
            continue
        first, rest = passed[0], passed[1:]
        for prov in sorted(provinces - officer):
            rnd = SimpleNamespace(id=f"cal{dl:%Y%m%d}", province=prov, registration_deadline=dl, evaluation_date=None,
                                  name=f"{name} (lịch theo QĐ 26/2026 Điều 5)", commune_deadline=commune,
                                  where_to_submit="UBND xã/phường nơi sản xuất")
            for uid, owns in (await round_recipients(session, rnd)).items():
                due = Due(round_key(rnd.id, uid, first), "round", 0, uid, first, dl - timedelta(days=first),
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
def cert_reply(cert: Certificate, today: date, late: bool = False) -> Reply:
    left = (cert.expires_on - today).days
    opens, closes, extension = window(cert.expires_on)
    text = render("reminders/window_closed" if late else "reminders/certificate", product=cert.product,
                  stars=cert.stars, decision_no=cert.decision_no, expires_on=cert.expires_on, days_left=left,
                  window_opens=opens, window_closes=closes, extension_until=extension,
                  window_state="before" if today < opens else ("open" if today <= closes else "closed"))
    return Reply(text, [[Button("📋 Chuẩn bị hồ sơ đánh giá lại", "d:start:reeval")],
                        [Button("🔕 Tắt nhắc", f"p:mute:{cert.id}"), Button("⭐ Sản phẩm của tôi", "p:list")]])


def round_reply(rnd: EvaluationRound, today: date, owns_expiring: bool) -> Reply:
    text = render("reminders/round", name=rnd.name, province=rnd.province,
                  deadline=rnd.registration_deadline, evaluation_date=rnd.evaluation_date,
                  where=rnd.where_to_submit, days_left=(rnd.registration_deadline - today).days,
                  owns_expiring=owns_expiring, commune_deadline=getattr(rnd, "commune_deadline", None))
    first = (Button("📋 Chuẩn bị hồ sơ đánh giá lại", "d:start:reeval") if owns_expiring
             else Button("📋 Hướng dẫn hồ sơ", "m:hoso"))
    return Reply(text, [[first], [Button("📅 Các đợt đánh giá", "r:list")]])


async def _load(session, model, ids) -> dict:
    ids, out = sorted(set(i for i in ids if i)), {}
    for i in range(0, len(ids), CHUNK):
        out.update({o.id: o for o in await session.scalars(select(model).where(model.id.in_(ids[i:i + CHUNK])))})
    return out


async def _attach_replies(session, due: list[Due], rounds: dict[str, tuple], today: date) -> dict:
    certs = await _load(session, Certificate, [d.ref_id for d in due if d.kind == "cert"])
    for d in due:
        if d.kind == "cert":
            d.reply = cert_reply(certs[d.ref_id], today, d.late)
        else:
            rnd, owns = rounds[d.key]
            d.reply = round_reply(rnd, today, owns)
    return certs


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
    from handlers.reach import chain
    started = time.perf_counter()
    res = SweepResult()
    if not dry_run:
        res.repaired = await chain.reconcile(session, settings)
    due = await due_certificates(session, settings.expiry_offsets, today)
    round_due = await due_rounds(session, settings.round_offsets, today)
    round_due += await calendar_rounds(session, settings.round_offsets, today)
    due += [d for d, _r, _o in round_due]
    existing = await _existing_keys(session, [d.key for d in due])
    due = [d for d in due if d.key not in existing]
    res.selection_s = time.perf_counter() - started
    rounds = {d.key: (r, o) for d, r, o in round_due}
    certs = await _attach_replies(session, due, rounds, today) if due else {}
    if dry_run:
        res.due = due
        res.total_s = time.perf_counter() - started
        return res
    queued_keys, res.skipped = await _insert_reminders(session, due)
    res.due = [d for d in due if d.key in queued_keys]
    res.queued = len(res.due)
    res.created = res.queued + res.skipped
    from handlers.reach.targets import targets_for
    targets = await targets_for(session, settings, res.due, certs, rounds)
    res.enqueued, res.call_listed = await chain.plan(session, settings, targets)
    res.total_s = time.perf_counter() - started
    return res


async def sweep_job(core) -> SweepResult:
    """Scheduled (cron at settings.reminder_time and at start-up): sweep, commit, wake the worker."""
    today = core.today()
    async with core.sessionmaker() as session, session.begin():
        res = await sweep(session, core.settings, today)
    log.info(json.dumps({"ev": "reminder_sweep", "today": today.isoformat(), "queued": res.queued,
                         "skipped": res.skipped, "enqueued": res.enqueued, "call_listed": res.call_listed,
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
