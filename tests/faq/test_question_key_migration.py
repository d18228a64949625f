"""Migration 0008: existing faq_log / feedback / officer_questions rows get their key, in batches, on both databases."""
from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text

from handlers.faq import repo
from storage.db import make_engine
from storage.migrate import alembic_config
from storage.models import question_key


async def test_existing_questions_get_their_key_and_group(db_url):
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0007_console_subgroup")
    engine = make_engine(db_url)
    n = 12_001                                            # more than two batches of 5,000
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO faq_log (user_id, question, score, outcome, created_at) "
                                "VALUES (:u, :q, 0.1, 'fallback', '2026-03-01 08:00:00')"),
                           [{"u": 1, "q": "Chè  Shan TUYẾT có OCOP không?" if i % 2 else f"Mật ong số {i}"}
                            for i in range(n)])
        await conn.execute(text("INSERT INTO feedback (user_id, faq_id, vote, question, created_at) VALUES "
                                "(1, 'thoi_han_gcn', -1, 'GCN hết hạn khi nào', '2026-03-02 08:00:00'), "
                                "(2, 'thoi_han_gcn', -1, NULL, '2026-03-02 08:00:00')"))
        uid = (await conn.execute(text("INSERT INTO users (display_name, opted_out, created_at, last_seen_at) "
                                       "VALUES ('A', false, '2026-03-01 08:00:00', '2026-03-01 08:00:00') RETURNING id"))).scalar()
        await conn.execute(text("INSERT INTO officer_questions (user_id, question, status, faq_candidate, created_at) "
                                "VALUES (:u, 'Chè Shan tuyết có OCOP không?', 'open', false, '2026-03-03 08:00:00')"),
                           {"u": uid})
    await asyncio.to_thread(command.upgrade, alembic_config(db_url), "heads")
    async with engine.connect() as conn:
        keys = dict((await conn.execute(text("SELECT question, question_key FROM faq_log"))).all())
        fb = sorted((await conn.execute(text("SELECT question_key FROM feedback"))).scalars())
        sent = (await conn.execute(text("SELECT question_key FROM officer_questions"))).scalars().all()
    assert len(keys) == n - n // 2 + 1 and all(k == question_key(q) for q, k in keys.items())
    assert keys["Chè  Shan TUYẾT có OCOP không?"] == "che shan tuyet co ocop khong?"
    assert fb == ["", "gcn het han khi nao"] and sent == ["che shan tuyet co ocop khong?"]
    from sqlalchemy.ext.asyncio import AsyncSession
    async with AsyncSession(engine) as s:
        top = await repo.misses(s, limit=2)
    await engine.dispose()
    assert [(m.key, m.count, m.downvotes, m.sent) for m in top] == [("che shan tuyet co ocop khong?", n // 2, 0, 1),
                                                                  ("gcn het han khi nao", 1, 1, 0)]
