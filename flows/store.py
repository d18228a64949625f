"""Flow answers in the database (table flow_answers): one row per (user, flow, node)."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FlowAnswer, utcnow


async def load(session: AsyncSession, user_id: int, flow: str) -> dict[str, str]:
    rows = await session.execute(select(FlowAnswer.node, FlowAnswer.value)
                                 .where(FlowAnswer.user_id == user_id, FlowAnswer.flow == flow))
    return {node: value for node, value in rows}


async def save(session: AsyncSession, user_id: int, flow: str, node: str, value: str) -> None:
    """Insert or replace one answer (an upsert, so a double tap cannot violate the unique key)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(FlowAnswer).values(user_id=user_id, flow=flow, node=node, value=value, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(index_elements=["user_id", "flow", "node"],
                                      set_={"value": value, "updated_at": utcnow()})
    await session.execute(stmt)


async def forget(session: AsyncSession, user_id: int, flow: str, node: str | None = None) -> None:
    """Delete one answer, or every answer of the flow when node is None."""
    stmt = delete(FlowAnswer).where(FlowAnswer.user_id == user_id, FlowAnswer.flow == flow)
    if node is not None:
        stmt = stmt.where(FlowAnswer.node == node)
    await session.execute(stmt)
