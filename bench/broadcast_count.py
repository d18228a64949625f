#!/usr/bin/env python3
"""The broadcast composer's live recipient count (GET /quantri/thong-bao/dem) at national size.

    .venv/bin/python bench/broadcast_count.py [--only sqlite|postgresql] [--requests 20]

10,000 producers (every 11th with no active identity), 20,000 certificates (a third unclaimed), a third
of the producers subscribed to groups and topics; the console served in-process. Prints p50/p95 per
filter for a national admin and a provincial officer. Target: p95 < 300 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import web as bench_web  # noqa: E402
from core import clock  # noqa: E402
from core.reference import all_groups, all_provinces  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

PG_DB = "ocop_bench_bcast"
QUERIES = {"national": ["", "?sao=4", "?nhom=thuc_pham", "?chude=hoi_cho", "?het_han=2027-06-30",
                        "?tinh=cao_bang&tinh=ha_noi&sao=4&sao=5&nhom=do_uong"],
           "province": ["", "?sao=3", "?nhom=thuc_pham&chude=tap_huan", "?het_han=2027-06-30"]}


async def subscriptions(core, n_producers: int) -> None:
    from sqlalchemy import insert

    from storage.models import Subscription
    rnd = random.Random(5)
    groups, provinces = [g.id for g in all_groups()], [p.id for p in all_provinces()]
    topics = ["hoi_cho", "dot_danh_gia", "tap_huan", "chinh_sach"]
    rows = [dict(user_id=u, province=provinces[u % len(provinces)], groups=rnd.sample(groups, 2),
                 topics=rnd.sample(topics, 2), active=True, updated_at=bench_web.NOW)
            for u in range(1, n_producers + 1) if u % 3 == 0]
    async with core.sessionmaker() as s:
        for i in range(0, len(rows), 1000):
            await s.execute(insert(Subscription), rows[i:i + 1000])
        await s.commit()


async def measure(url: str, label: str, n_requests: int, n_producers: int) -> float:
    from aiohttp import CookieJar, web
    from aiohttp.test_utils import TestClient, TestServer

    from core.app import Core
    from core.config import load_settings
    from core.web import auth
    from core.web.app import mount
    from storage.models import Identity, Role, User
    core = Core(load_settings(database_url=url, telegram_token="", admin_ids=frozenset({"telegram:9000001"}),
                              web_console=True, public_url="http://bench.test"))
    await subscriptions(core, n_producers)
    async with core.sessionmaker() as s:
        admin, officer = User(display_name="Admin"), User(display_name="Cán bộ")
        s.add_all([admin, officer])
        await s.flush()
        s.add_all([Identity(user_id=admin.id, channel="telegram", external_id="9000001", chat_id="9000001"),
                   Identity(user_id=officer.id, channel="telegram", external_id="9000002", chat_id="9000002"),
                   Role(user_id=officer.id, role="officer", province="cao_bang")])
        await s.commit()
        ids = {"national": admin.id, "province": officer.id}
    app = web.Application()
    mount(app, core)
    print(f"\n== {label} ==")
    worst = 0.0
    async with TestClient(TestServer(app), cookie_jar=CookieJar(unsafe=True)) as client:
        for who, uid in ids.items():
            client.session.cookie_jar.clear()
            async with core.sessionmaker() as s:
                token = await auth.create_login_token(s, uid)
                await s.commit()
            assert (await client.post(f"/quantri/dang-nhap/{token}", allow_redirects=False)).status == 303
            for q in QUERIES[who]:
                times, data = [], {}
                for _ in range(n_requests):
                    t = time.perf_counter()
                    r = await client.get("/quantri/thong-bao/dem" + q)
                    data = await r.json()
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status == 200, (q, data)
                times.sort()
                p95 = times[int(0.95 * (len(times) - 1))]
                worst = max(worst, p95)
                print(f"  {who:9s} {q or '(no filter)':52s} {data['count']:6d} recipients {data['no_route']:5d} "
                      f"no route · p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms")
    await core.close()
    print(f"  worst p95 {worst:.1f} ms (target < 300)")
    return worst


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--producers", type=int, default=10_000)
    ap.add_argument("--certs", type=int, default=20_000)
    args = ap.parse_args()
    clock.set_clock(clock.StartedClock(bench_web.NOW))
    t = time.perf_counter()
    sum(len(str(i)) for i in range(1_000_000))
    print(f"machine: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; a 1M-step Python loop took "
          f"{time.perf_counter() - t:.2f} s (about 0.15 s on an idle core)")
    data = bench_web.build_rows(args.certs, args.producers, 0)
    data = {k: v for k, v in data.items() if v and k not in ("broadcasts",)}
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            upgrade(url)
            bench_web.seed_sqlite(f"{tmp}/bench.db", data)
            await measure(url, "SQLite", args.requests, args.producers)
    if args.only in (None, "postgresql"):
        bench_web.PG_DB = PG_DB
        await bench_web.pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
        await bench_web.pg_admin(f"CREATE DATABASE {PG_DB}")
        try:
            url = "postgresql+asyncpg://" + bench_web.PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + "/" + PG_DB
            await asyncio.to_thread(upgrade, url)
            await bench_web.seed_pg(data)
            await measure(url, "PostgreSQL", args.requests, args.producers)
        finally:
            await bench_web.pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")


if __name__ == "__main__":
    asyncio.run(main())
