"""The audit trail: every officer action (grant, revoke, fair change, broadcast, answer)."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, utcnow


async def audit(session: AsyncSession, actor_user_id: int | None, action: str, **detail) -> AuditLog:
    """Record who did what (the time is added automatically); flushed with the caller's transaction."""
    clean = {k: (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v))
             for k, v in detail.items()}
    row = AuditLog(actor_user_id=actor_user_id, action=action[:64], detail=clean, created_at=utcnow())
    session.add(row)
    await session.flush()
    return row
