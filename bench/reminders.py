#!/usr/bin/env python3
"""Reminder sweep benchmark: 100,000 certificates on SQLite and on PostgreSQL (scratch databases).

    .venv/bin/python bench/reminders.py [--certs 100000] [--only sqlite|postgresql] [--pg URL]

Per database it prints: the selection step (what is due, minus what exists; target < 2 s), the
whole first sweep (insert reminders + skipped rows + delivery rows, commit), a second sweep on the
same day (must create nothing), rows created, and peak Python memory of a sweep (tracemalloc, in a
separate dry run so tracing does not distort the timings) and the process max RSS.
Data: half as many producers as certificates, one active identity each; recognition dates spread
over the last 36 months plus a tail of already expired ones, so ~8 % of certificates are due.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, insert, select  # noqa: E402

from core import clock  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.dates import expiry_date  # noqa: E402
from core.reminders import sweep  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Certificate, Delivery, Identity, Reminder, User  # noqa: E402

TODAY = date(2026, 11, 22)
PG_ADMIN = os.environ.get("OCOP_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
GROUPS = ["thuc_pham", "do_uong", "duoc_lieu", "thu_cong", "sinh_vat_canh", "du_lich"]


async def seed(sm, n_certs: int) -> float:
    rnd = random.Random(42)
    n_users = max(1, n_certs // 2)
    now = clock.now()
    started = time.perf_counter()
    async with sm() as s, s.begin():
        for lo in range(0, n_users, 10_000):
            hi = min(n_users, lo + 10_000)
            await s.execute(insert(User), [dict(id=i + 1, display_name=f"P{i}", created_at=now, last_seen_at=now)
                                           for i in range(lo, hi)])
            await s.execute(insert(Identity), [dict(id=i + 1, user_id=i + 1, channel="telegram",
                                                    external_id=str(10_000_000 + i), chat_id=str(10_000_000 + i),
                                                    active=rnd.random() > 0.03, last_interaction_at=now)
                                               for i in range(lo, hi)])
        for lo in range(0, n_certs, 10_000):
            rows = []
            for i in range(lo, min(n_certs, lo + 10_000)):
                rec = TODAY - timedelta(days=rnd.randint(0, 36 * 30 + 120))
                rows.append(dict(owner_user_id=(i % n_users) + 1 if rnd.random() > 0.1 else None,
                                 product=f"Sản phẩm {i}", producer="", province="dong_thap",
                                 group=GROUPS[i % 6], stars=3 + i % 3, decision_no=f"{i}/QĐ-UBND",
                                 authority="province", recognized_on=rec, expires_on=expiry_date(rec),
                                 muted=rnd.random() < 0.05, source="import", created_at=now, updated_at=now))
            await s.execute(insert(Certificate), rows)
    return time.perf_counter() - started


async def count(sm, model) -> int:
    async with sm() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def run_sweep(sm, settings, dry_run=False):
    async with sm() as s:
        started = time.perf_counter()
        res = await sweep(s, settings, TODAY, dry_run=dry_run)
        await (s.rollback() if dry_run else s.commit())
        return res, time.perf_counter() - started


async def bench(url: str, label: str, n_certs: int) -> None:
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    settings = load_settings(database_url=url)
    try:
        seeded = await seed(sm, n_certs)
        if label == "postgresql":
            async with engine.connect() as c:
                await c.exec_driver_sql("ANALYZE")
        first, first_total = await run_sweep(sm, settings)
        second, second_total = await run_sweep(sm, settings)
        tracemalloc.start()
        await run_sweep(sm, settings, dry_run=True)
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        reminders, deliveries = await count(sm, Reminder), await count(sm, Delivery)
    finally:
        await engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n== {label}: {n_certs:,} certificates (seeded in {seeded:.1f} s) ==")
    print(f"first sweep : selection {first.selection_s:.3f} s (target < 2 s), total {first_total:.3f} s "
          f"incl. commit; queued {first.queued:,}, skipped {first.skipped:,}, deliveries {first.enqueued:,}")
    print(f"second sweep: selection {second.selection_s:.3f} s, total {second_total:.3f} s; "
          f"created {second.created} (idempotent: must be 0)")
    print(f"rows in db  : reminders {reminders:,}, deliveries {deliveries:,}")
    print(f"memory      : sweep peak (tracemalloc) {peak / 2**20:.1f} MiB; process max RSS {rss:.0f} MiB")


async def pg_admin(sql: str) -> None:
    import asyncpg
    conn = await asyncpg.connect(PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--certs", type=int, default=100_000)
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite+aiosqlite:///{tmp}/bench.db", "sqlite", args.certs)
    if args.only in (None, "postgresql"):
        name = f"ocop_bench_{uuid.uuid4().hex[:8]}"
        await pg_admin(f'CREATE DATABASE "{name}"')
        try:
            await bench(f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", "postgresql", args.certs)
        finally:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
