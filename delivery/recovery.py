"""Crash recovery of delivery rows (see delivery.worker for the row life-cycle).

A row 'claimed' by a worker whose process is gone (same host, pid no longer exists) or whose lease
expired was never attempted: it goes back to 'queued'. A row left in 'sending' by such a worker may or
may not have reached the person: it becomes 'unknown' and is never re-sent (at most once).
Rows of live workers (another process on PostgreSQL) are left alone.
"""
from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from storage.models import Delivery, utcnow

log = logging.getLogger("ocop.delivery")

LEASE = timedelta(seconds=120)
HOST = socket.gethostname()[:30]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_is_dead(claimed_by: str | None) -> bool:
    """True when `claimed_by` ("host:pid:…") names a process on this host that no longer exists."""
    if not claimed_by:
        return True
    parts = claimed_by.split(":")
    if len(parts) < 2 or parts[0] != HOST or not parts[1].isdigit():
        return False
    return not _pid_alive(int(parts[1]))


async def recover_stale(sessionmaker, worker_id: str) -> dict[str, int]:
    """Recover the rows of dead or expired workers other than `worker_id`."""
    cutoff = utcnow() - LEASE
    async with sessionmaker() as s:
        owners = set(await s.scalars(select(Delivery.claimed_by).where(
            Delivery.status.in_(("claimed", "sending")), Delivery.claimed_by != worker_id).distinct()))
    dead = [o for o in owners if owner_is_dead(o)]
    cond = Delivery.claimed_at < cutoff
    if dead:
        cond = or_(cond, Delivery.claimed_by.in_(dead))
    cond = and_(cond, or_(Delivery.claimed_by.is_(None), Delivery.claimed_by != worker_id))
    async with sessionmaker() as s, s.begin():
        r1 = await s.execute(update(Delivery).where(Delivery.status == "claimed", cond)
                             .values(status="queued", claimed_by=None, claimed_at=None)
                             .execution_options(synchronize_session=False))
        r2 = await s.execute(update(Delivery).where(Delivery.status == "sending", cond)
                             .values(status="unknown", last_error="in flight during a crash")
                             .execution_options(synchronize_session=False))
    out = {"requeued": r1.rowcount or 0, "unknown": r2.rowcount or 0}
    if any(out.values()):
        log.warning("delivery recovery: %s", out)
    return out
