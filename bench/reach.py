#!/usr/bin/env python3
"""Reach benchmark (issue 14): a register of N producers (30 % Telegram, 20 % Zalo OA inside the
window, 20 % OA outside the window with a phone, 15 % phone only, 5 % refused phone, 10 % no route)
through the five reminder offsets, against fake Telegram / Zalo OA / ZNS servers over real HTTP.

    .venv/bin/python bench/reach.py [--n 1000] [--only sqlite|postgresql] [--rate 28]

Runs on SQLite and on PostgreSQL (a throw-away database on OCOP_BENCH_PG_URL's server, default
postgres@127.0.0.1:5432). Prints the one-off cost of loading the features' reminder sources, per
offset the sweep time and the delivery time (until nothing is pending), and for the whole run the
share of reminders reached per route, the call-list reasons, and how many Telegram 429s the worker
met. The default rate stays under the fake Telegram's overall limit (30/s, like Telegram's).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import select  # noqa: E402

from core import clock  # noqa: E402
from core.config import load_settings  # noqa: E402
from delivery.standalone import close_senders, open_senders  # noqa: E402
from delivery.worker import DeliveryWorker  # noqa: E402
from core.reminders import all_sources, sweep  # noqa: E402
from handlers.reach.chain import install  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import CallListEntry, Delivery  # noqa: E402
from tests.reach.register import EXP, Fakes, seed, touch_window  # noqa: E402

OFFSETS = (210, 180, 150, 125, 0)
VN = timezone(timedelta(hours=7))
class Count429(logging.Handler):
    """Counts the limiter's 429 warnings instead of printing each one."""
    n = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "429" in record.getMessage():
            Count429.n += 1


PG_ADMIN = os.environ.get("OCOP_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


async def run(url: str, n: int, rate: float) -> None:
    clock.set_clock(clock.StartedClock(datetime(2026, 8, 7, 9, tzinfo=VN)))
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    groups = await seed(sm, n)
    fakes = await Fakes().start(groups)
    os.environ.update(fakes.env(url))
    os.environ["SEND_RATE"] = str(rate)
    settings = load_settings()
    senders, closers = await open_senders(settings, sm, out=open(os.devnull, "w"))
    t = time.perf_counter()
    sources = all_sources()
    took = time.perf_counter() - t
    print(f"  loading the features' reminder sources: {took:.2f} s" + (" (already loaded in this process)"
                                                                       if took < 0.05 else " (once per process)"))
    Count429.n = 0
    sweeps = deliveries = 0.0
    try:
        for off in OFFSETS:
            day = EXP - timedelta(days=off)
            clock.set_clock(clock.StartedClock(datetime(day.year, day.month, day.day, 9, tzinfo=VN)))
            await touch_window(sm, groups)
            t0 = time.perf_counter()
            async with sm() as s, s.begin():
                res = await sweep(s, settings, day, sources=sources)
            t1 = time.perf_counter()
            worker = DeliveryWorker(sm, senders, rate=settings.send_rate, per_chat_interval=0)
            install(worker, settings)
            await worker.drain(timeout=600)
            t2 = time.perf_counter()
            sweeps, deliveries = sweeps + t1 - t0, deliveries + t2 - t1
            print(f"  offset {off:3}: sweep {t1 - t0:5.2f} s ({res.enqueued} first routes, {res.call_listed} "
                  f"straight to the call list), delivery {t2 - t1:5.2f} s (sent {worker.stats['sent']})", flush=True)
        async with sm() as s:
            rows = list(await s.execute(select(Delivery.key, Delivery.channel, Delivery.status)))
            calls = list(await s.scalars(select(CallListEntry.reason)))
        total = n * len(OFFSETS)
        by_route = Counter(ch for _k, ch, st in rows if st == "sent")
        reached = sum(by_route.values())
        print(f"  reminders {total}: reached {reached} ({reached / total:.1%}) — " + ", ".join(
            f"{ch} {c} ({c / total:.1%})" for ch, c in by_route.most_common()))
        print(f"  call list {len(calls)} ({len(calls) / total:.1%}): " + ", ".join(
            f"{r} {c}" for r, c in Counter(calls).most_common()))
        dup = max(Counter(k.split('>')[0] for k, _c, st in rows if st == "sent").values())
        print(f"  provider messages: telegram {len(fakes.tg.sent)}, zalo oa {len(fakes.oa.sent)}, "
              f"zns {len(fakes.zns.sent)}; max sends per reminder {dup}; telegram 429s {Count429.n}")
        print(f"  totals: sweeps {sweeps:.2f} s ({total / sweeps:,.0f} reminders/s), delivery {deliveries:.2f} s "
              f"({reached / deliveries:,.1f} sent/s at SEND_RATE {settings.send_rate:g})")
    finally:
        await close_senders(closers)
        await fakes.stop()
        await engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    ap.add_argument("--rate", type=float, default=28)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("ocop").addHandler(Count429())
    logging.getLogger("ocop").setLevel(logging.WARNING)
    logging.getLogger("ocop").propagate = False
    if args.only != "postgresql":
        path = os.path.join(tempfile.mkdtemp(), "reach.db")
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        print(f"SQLite, {args.n} producers")
        asyncio.run(run(url, args.n, args.rate))
    if args.only != "sqlite":
        import asyncpg
        name = f"bench_reach_{uuid.uuid4().hex[:8]}"
        dsn = PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://")

        async def admin(sql):
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        try:
            upgrade(url)
            print(f"PostgreSQL, {args.n} producers")
            asyncio.run(run(url, args.n, args.rate))
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
