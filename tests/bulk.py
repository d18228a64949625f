"""Bulk recipients for delivery tests and the bench: N producers with a Telegram identity each."""
from __future__ import annotations

from sqlalchemy import func, insert, select, text

from storage.models import Delivery, Identity, User, utcnow

CHAT_BASE = 100_000


async def add_producers(sm, n: int, province: str = "dong_thap", chat_base: int = CHAT_BASE) -> list[int]:
    """Insert n users (+ telegram identities, chat ids chat_base+i); returns the chat ids."""
    now = utcnow()
    async with sm() as s, s.begin():
        start = (await s.scalar(select(func.max(User.id)))) or 0
        users = [dict(id=start + i + 1, display_name=f"SX {i}", province=province, opted_out=False,
                      created_at=now, last_seen_at=now) for i in range(n)]
        idents = [dict(user_id=start + i + 1, channel="telegram", external_id=str(chat_base + i),
                       chat_id=str(chat_base + i), active=True, last_interaction_at=now) for i in range(n)]
        for i in range(0, n, 1000):
            await s.execute(insert(User), users[i:i + 1000])
            await s.execute(insert(Identity), idents[i:i + 1000])
        if s.bind.dialect.name == "postgresql":     # explicit ids: move the sequence past them
            await s.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), "
                                 "(SELECT max(id) FROM users))"))
    return [chat_base + i for i in range(n)]


async def status_counts(sm, broadcast_id: int) -> dict[str, int]:
    async with sm() as s:
        rows = await s.execute(select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id)
                               .group_by(Delivery.status))
        return dict(rows.all())


async def unknown_chats(sm, broadcast_id: int) -> set[int]:
    async with sm() as s:
        return {int(c) for c in await s.scalars(select(Delivery.chat_id).where(
            Delivery.broadcast_id == broadcast_id, Delivery.status == "unknown"))}
