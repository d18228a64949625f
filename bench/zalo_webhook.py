"""Zalo OA webhook: acknowledgement latency and end-to-end answer throughput, on the fake OA server.

    .venv/bin/python bench/zalo_webhook.py [--events 500] [--users 100] [--concurrency 20] [--db URL]

The real Runtime (aiohttp server, Zalo OA channel, full core on an SQLite file by default) receives
N signed `user_send_text` events ("/start") from C concurrent pushers, spread over U users. Printed:
- ack: time for the webhook to answer 200 (Zalo reportedly waits about 2 s before retrying) —
  median / p95 / max;
- answered/s: events whose menu answer reached the fake OA API, per second, until all are answered.
The fake server, the pushers and the bot share this machine's cores. --db must name a database of
its own (it is migrated and written to), e.g. one made with `createdb -h 127.0.0.1 -U postgres ocop_bench`.
Measured on the 2-core dev machine: SQLite ack median 12 ms (p95 35 ms), 94 events/s answered;
PostgreSQL ack median 33 ms (p95 51 ms), 91 events/s.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels import make_zalo_channel  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from tests.fakes.zalo_oa_api import FakeZaloOAAPI, text_event  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(args) -> None:
    logging.basicConfig(level=logging.WARNING)
    fake = await FakeZaloOAAPI().start()
    access, refresh = fake.issue_pair()
    port = free_port()
    db = args.db or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = load_settings(database_url=db, telegram_token="", http_host="127.0.0.1", http_port=port,
                             zalo_mode="oa", zalo_oa_app_id=fake.app_id, zalo_oa_app_secret=fake.app_secret,
                             zalo_oa_secret_key=fake.secret_key, zalo_oa_access_token=access,
                             zalo_oa_refresh_token=refresh, zalo_oa_api_url=fake.url, zalo_oauth_url=fake.url,
                             zalo_webhook_url=f"http://127.0.0.1:{port}/zalo/webhook")
    rt = Runtime(settings)
    rt.add_channel(make_zalo_channel(rt))
    await rt.start(with_worker=False, with_scheduler=False, with_http=True)
    url = settings.zalo_webhook_url
    events = [text_event(fake.app_id, f"user{i % args.users}", "/start") for i in range(args.events)]
    acks: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for ev in events:
        queue.put_nowait(ev)

    async def pusher():
        while not queue.empty():
            ev = queue.get_nowait()
            t = time.perf_counter()
            status = await fake.push(url, ev)
            acks.append(time.perf_counter() - t)
            assert status == 200, status

    started = time.perf_counter()
    await asyncio.gather(*(pusher() for _ in range(args.concurrency)))
    while len({m["user_id"] for m in fake.sent}) < args.users or len(fake.sent) < args.events:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    acks.sort()
    print(f"events={args.events} users={args.users} pushers={args.concurrency} db={db.split(':', 1)[0]}")
    print(f"ack ms: median {statistics.median(acks) * 1000:.1f} · p95 {acks[int(len(acks) * 0.95)] * 1000:.1f}"
          f" · max {acks[-1] * 1000:.1f}")
    print(f"answered: {args.events} in {elapsed:.2f} s = {args.events / elapsed:.0f} events/s")
    await rt.stop()
    await fake.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=500)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--db", default="")
    asyncio.run(main(ap.parse_args()))
