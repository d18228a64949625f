"""The reminder sweep: turns what the features say is due into reminder and delivery rows.

Each feature registers a reminder `Source` (router.reminder): certificate expiries
(handlers/products/reminders.py), evaluation-round deadlines (handlers/rounds/reminders.py),
fair registration deadlines (handlers/fairs/reminders.py). One sweep, in ONE transaction:
1. every source selects what is due on `today`;
2. for each certificate (or round x recipient) take the passed offsets; the most relevant one (the
   smallest passed offset = the latest due date) becomes a `queued` reminder, older passed offsets
   become `skipped` rows (catch-up after downtime sends one message, not a burst);
3. INSERT … ON CONFLICT (key) DO NOTHING RETURNING: only rows this sweep really created get their
   first route. Certificate and round reminders go through the route chain (handlers/reach/chain.py:
   Telegram → Zalo → ZNS by phone → the officers' call list; the first delivery row's key is the
   reminder key); other kinds (fairs) go to the owner's most recently used active identity.
A second sweep, a concurrent sweep (PostgreSQL waits on the unique index, then does nothing) or a
sweep after a crash creates nothing twice. Sending is the delivery worker's job (delivery/).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Awaitable, Callable

from sqlalchemy import exists, select, text

from core.messages import Reply
from delivery.queue import enqueue_rows
from storage.models import Identity, Reminder, User, utcnow
from storage.sql import upsert

log = logging.getLogger("ocop.reminders")

CHUNK = 900


@dataclass
class Due:
    key: str
    kind: str                # cert | round
    ref_id: int
    user_id: int | None      # None: an unclaimed register entry (certificates)
    offset: int
    due_on: date
    reply: Reply | None = None
    skipped: list[tuple[str, int, date]] = field(default_factory=list)   # (key, offset, due_on)
    context: Any = None      # what the source needs to write the message later


@dataclass(frozen=True)
class Source:
    """A feature's reminders: `due(session, settings, today)` lists what is due (cheap, no message);
    `attach(session, due, today)` writes the message of each new one (d.reply)."""
    kind: str
    due: Callable[..., Awaitable[list[Due]]]
    attach: Callable[..., Awaitable[None]]


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


def passed_offsets(target: date, offsets, today: date) -> list[int]:
    """Offsets whose due date (target - offset) is today or earlier, most relevant first."""
    return sorted(o for o in offsets if target - timedelta(days=o) <= today)


def due_before(kind: str, ref_id: int, user_id: int, target: date, offsets, today: date, key,
               context: Any = None) -> Due | None:
    """The reminder due today for `target` (key(offset) names it), or None. The most relevant passed
    offset is sent; older passed offsets are recorded as skipped (after downtime: one message, not a burst)."""
    passed = passed_offsets(target, offsets, today)
    if not passed:
        return None
    first, rest = passed[0], passed[1:]
    return Due(key(first), kind, ref_id, user_id, first, target - timedelta(days=first),
               skipped=[(key(o), o, target - timedelta(days=o)) for o in rest], context=context)


def has_active_identity(user_col):
    return exists().where(Identity.user_id == user_col, Identity.active.is_(True))


def not_opted_out(user_col):
    """News-like reminders (rounds, fairs) end with /stop (users.opted_out). Expiry reminders are the
    owner's own service with a per-product mute, so they do not check this."""
    return ~exists().where(User.id == user_col, User.opted_out.is_(True))


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
    stmt = upsert(session, Reminder, key=["key"]).returning(Reminder.key, Reminder.status)
    queued, skipped = set(), 0
    for i in range(0, len(rows), 5000):        # executemany ("insertmanyvalues"): compiled once, batched
        for key, status in (await session.execute(stmt, rows[i:i + 5000])).all():
            if status == "queued":
                queued.add(key)
            else:
                skipped += 1
    return queued, skipped


def all_sources() -> list[Source]:
    """The sources every feature registers (for callers without a running Core, e.g. the CLI)."""
    from handlers import build_router
    return build_router().reminder_sources


async def sweep(session, settings, today: date, *, dry_run: bool = False,
                sources: list[Source] | None = None) -> SweepResult:
    """Create due reminders and their delivery rows (the caller commits). dry_run writes nothing."""
    started = time.perf_counter()
    res = SweepResult()
    from handlers.reach import chain
    if not dry_run:
        res.repaired = await chain.reconcile(session, settings)
    sources = all_sources() if sources is None else sources
    found = [(src, await src.due(session, settings, today)) for src in sources]
    existing = await _existing_keys(session, [d.key for _src, due in found for d in due])
    found = [(src, [d for d in due if d.key not in existing]) for src, due in found]
    res.selection_s = time.perf_counter() - started
    for src, due in found:
        if due:
            await src.attach(session, due, today)
    due = [d for _src, new in found for d in new]
    if dry_run:
        res.due = due
        res.total_s = time.perf_counter() - started
        return res
    queued_keys, res.skipped = await _insert_reminders(session, due)
    res.due = [d for d in due if d.key in queued_keys]
    res.queued = len(res.due)
    res.created = res.queued + res.skipped
    from handlers.reach.targets import CHAINED, targets_for
    chained = [d for d in res.due if d.kind in CHAINED]
    res.enqueued, res.call_listed = await chain.plan(session, settings, await targets_for(session, settings, chained))
    others = [d for d in res.due if d.kind not in CHAINED]
    idents = await _identities(session, {d.user_id for d in others})
    rows = [dict(key=d.key, kind="reminder", identity_id=idents[d.user_id].id,
                 channel=idents[d.user_id].channel, chat_id=idents[d.user_id].chat_id,
                 payload=d.reply.to_payload()) for d in others if d.user_id in idents]
    res.enqueued += await enqueue_rows(session, rows)
    res.total_s = time.perf_counter() - started
    return res


async def sweep_job(core) -> SweepResult:
    """Scheduled (cron at settings.reminder_time and at start-up): sweep and commit (which wakes the worker)."""
    today = core.today()
    async with core.sessionmaker() as session, session.begin():
        res = await sweep(session, core.settings, today, sources=core.router.reminder_sources)
    log.info(json.dumps({"ev": "reminder_sweep", "today": today.isoformat(), "queued": res.queued,
                         "skipped": res.skipped, "enqueued": res.enqueued, "call_listed": res.call_listed,
                         "selection_ms": round(res.selection_s * 1000, 1), "total_ms": round(res.total_s * 1000, 1)}))
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
    router.job("reminder_sweep", sweep_job, cron=lambda settings: cron_from(settings.reminder_time),
               run_at_start=True)
