"""Migration 0010: broadcasts.counts / channel_counts come and go; a broadcast kept across it has none (the
console's list fills them on the first visit, tests/broadcast/test_web.py)."""
from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect, text

from storage.db import make_engine
from storage.migrate import alembic_config


async def _columns(engine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("broadcasts")})


async def test_counts_columns_down_and_up(db_url):
    engine = make_engine(db_url)
    assert {"counts", "channel_counts"} <= await _columns(engine)
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0009_audit_indexes")
    assert not {"counts", "channel_counts"} & await _columns(engine)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO broadcasts (text, segment, status, total, created_at) "
                                "VALUES ('Chào', '{}', 'done', 3, '2026-03-01 08:00:00')"))
    await asyncio.to_thread(command.upgrade, alembic_config(db_url), "heads")
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT status, total, counts, channel_counts FROM broadcasts"))).all()
    await engine.dispose()
    assert [tuple(r) for r in rows] == [("done", 3, None, None)]
