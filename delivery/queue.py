"""Enqueue outgoing messages as delivery rows (idempotent on `key`).

Waking the worker happens here and only here: `enqueue_rows` marks its session, and when that
session commits, every delivery worker of this process is woken (a worker in another process finds
the rows at its next poll). Waking at commit, not at enqueue, means the worker never looks before
the rows are visible.
"""
from __future__ import annotations

import weakref
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.messages import Reply
from storage.models import Delivery, Identity, utcnow


_WAKE = "delivery.wake"
_workers: weakref.WeakSet = weakref.WeakSet()     # objects with an asyncio.Event `wakeup`


def listen(worker) -> None:
    """Wake `worker` whenever a session that queued rows commits."""
    _workers.add(worker)


@event.listens_for(Session, "after_commit")
def _wake(session: Session) -> None:
    if session.info.pop(_WAKE, False):
        for w in list(_workers):
            w.wakeup.set()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_WAKE, None)


def _insert(session: AsyncSession):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def enqueue_rows(session: AsyncSession, rows: list[dict]) -> int:
    """Insert many delivery rows; rows whose key already exists are ignored. Returns inserted count."""
    if not rows:
        return 0
    now = utcnow()
    for r in rows:
        r.setdefault("status", "queued")
        r.setdefault("attempts", 0)
        r.setdefault("next_attempt_at", now)
        r.setdefault("created_at", now)
    ins = _insert(session)
    total = 0
    for i in range(0, len(rows), 500):
        stmt = ins(Delivery).values(rows[i:i + 500]).on_conflict_do_nothing(index_elements=["key"])
        res = await session.execute(stmt)
        total += res.rowcount or 0
    if total:
        session.info[_WAKE] = True
    return total


async def enqueue(session: AsyncSession, identity: Identity, reply: Reply, *, key: str, kind: str,
                  broadcast_id: int | None = None, not_before: datetime | None = None) -> bool:
    row = dict(key=key, kind=kind, broadcast_id=broadcast_id, identity_id=identity.id,
               channel=identity.channel, chat_id=identity.chat_id, payload=reply.to_payload())
    if not_before:
        row["next_attempt_at"] = not_before
    return await enqueue_rows(session, [row]) == 1


async def preferred_identity(session: AsyncSession, user_id: int) -> Identity | None:
    """The identity a person used most recently among those still reachable."""
    return await session.scalar(
        select(Identity).where(Identity.user_id == user_id, Identity.active.is_(True))
        .order_by(Identity.last_interaction_at.desc()).limit(1))


async def enqueue_user(session: AsyncSession, user_id: int, reply: Reply, *, key: str, kind: str,
                       broadcast_id: int | None = None) -> bool:
    ident = await preferred_identity(session, user_id)
    if ident is None:
        return False
    return await enqueue(session, ident, reply, key=key, kind=kind, broadcast_id=broadcast_id)
