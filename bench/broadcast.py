#!/usr/bin/env python3
"""Broadcast throughput and exactly-once delivery against the fake Telegram Bot API server.

    .venv/bin/python bench/broadcast.py                      # 10,000 recipients, ~6 min per scenario
    .venv/bin/python bench/broadcast.py --recipients 1000    # quicker
    .venv/bin/python bench/broadcast.py --scenarios faults --db postgresql

The fake server enforces --limit messages/s overall (sliding 1 s window) and 1/s per chat; the worker
is configured at --rate (default 28/s, below the limit as in production). Real HTTP, real PTB
(the same TelegramSender as `bot.py run`), real database, the real `bot.py broadcast` code path
(broadcasting.runner.deliver). Printed per scenario:
- achieved rate = delivered messages / (last send - first send), and as a fraction of the worker's
  share of the token's budget, --rate minus --reserve (REPLY_RESERVE, left to direct replies)
  (target >= 0.95 without faults; with 429s the worker pauses everyone for retry_after, as Telegram
  requires, so the fraction drops by design);
- lost (non-blocked recipients with no message; target 0) and duplicates (target 0);
- rate violations counted by the fake (target 0), faults injected, blocked recipients marked.
The fake runs in its own process (so the bot's event loop and the GIL cannot distort its clock);
faults are scripted per chat: 2 % of recipients answer their first send with 429 (retry_after
--retry-after), 1 % with 502, 1 % are blocked.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from handlers.broadcast import sending  # noqa: E402
from handlers.broadcast.runner import deliver  # noqa: E402
from core.config import load_settings  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.bulk import add_producers, status_counts, unknown_chats  # noqa: E402

SCENARIOS = {
    "clean": dict(flood=0.0, blocked=0.0, transient=0.0),
    "faults": dict(flood=0.02, blocked=0.01, transient=0.01),
    "kill": dict(flood=0.0, blocked=0.0, transient=0.0),     # `bot.py broadcast` SIGKILLed, then --resume
}


def make_db(kind: str) -> tuple[str, callable]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        return url, lambda: None
    from tests.dbutil import _pg_url_for, pg_exec
    name = f"ocop_bench_{uuid.uuid4().hex[:8]}"
    pg_exec(f'CREATE DATABASE "{name}"')
    url = _pg_url_for(name)
    upgrade(url)
    return url, lambda: pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class FakeProcess:
    """`python -m tests.fakes.telegram_api` in its own process, driven by its /_fake/* routes."""

    def __init__(self, limit: int):
        self.limit = limit

    async def __aenter__(self):
        import aiohttp
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.fakes.telegram_api", "--rate", str(self.limit), "--per-chat", "1",
            cwd=str(ROOT), stdout=asyncio.subprocess.PIPE)
        info = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), 30))
        self.url, self.token = info["url"], info["token"]
        self.http = aiohttp.ClientSession()
        return self

    async def script(self, body: dict) -> None:
        async with self.http.post(f"{self.url}/_fake/script", json=body) as r:
            r.raise_for_status()

    async def get(self, path: str):
        async with self.http.get(f"{self.url}{path}") as r:
            return await r.json()

    async def __aexit__(self, *exc):
        await self.http.close()
        self.proc.terminate()
        await self.proc.wait()


async def kill_and_resume(fake, url: str, bid: int, args) -> None:
    """Run `bot.py broadcast --resume` in a subprocess, SIGKILL it half-way, run it again to the end."""
    import signal
    env = dict(os.environ, DATABASE_URL=url, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.url,
               SEND_RATE=str(args.rate), REPLY_RESERVE=str(args.reserve), PER_CHAT_INTERVAL="1")
    cmd = [sys.executable, str(ROOT / "bot.py"), "broadcast", "--resume", str(bid)]
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    while (await fake.get("/_fake/stats"))["sent"] < args.recipients // 2:
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    await proc.wait()


async def scenario(name: str, args) -> dict:
    spec = SCENARIOS[name]
    url, drop = make_db(args.db)
    try:
        async with FakeProcess(args.limit) as fake:
            engine = make_engine(url)
            sm = make_sessionmaker(engine)
            chats = await add_producers(sm, args.recipients)
            blocked = set(chats[::int(1 / spec["blocked"])]) if spec["blocked"] else set()
            others = [c for c in chats if c not in blocked]
            flooded = others[1::int(1 / spec["flood"])] if spec["flood"] else []
            failing = others[2::int(1 / spec["transient"])] if spec["transient"] else []
            for c in blocked:
                await fake.script({"chat_id": c, "state": "blocked"})
            for c in flooded:
                await fake.script({"chat_id": c, "errors": [429], "retry_after": args.retry_after})
            for c in failing:
                await fake.script({"chat_id": c, "errors": [502]})
            settings = load_settings(database_url=url, telegram_token=fake.token, telegram_api_url=fake.url,
                                     send_rate=args.rate, reply_reserve=args.reserve, per_chat_interval=1.0,
                                     max_attempts=5)
            async with sm() as s, s.begin():
                bc, errors = await sending.create(s, actor_user_id=None, text="Thông báo {{ tinh }}",
                                                  segment={}, scope=None)
            assert not errors, errors
            started = time.monotonic()
            if name == "kill":
                await kill_and_resume(fake, url, bc.id, args)
            else:
                with open(os.devnull, "w") as devnull:
                    await deliver(sm, settings, bc.id, out=devnull if not args.verbose else sys.stdout)
            wall = time.monotonic() - started
            sends = sorted((x for x in await fake.get("/_fake/sent") if x["method"] == "sendMessage"),
                           key=lambda x: x["t"])
            stats = await fake.get("/_fake/stats")
            per_chat = Counter(x["chat_id"] for x in sends)
            span = (sends[-1]["t"] - sends[0]["t"]) if len(sends) > 1 else wall
            achieved = (len(sends) - 1) / span if span > 0 else 0.0
            counts = await status_counts(sm, bc.id)
            unknown = await unknown_chats(sm, bc.id)
            await engine.dispose()
            return dict(
                scenario=name, recipients=args.recipients, delivered=len(sends), wall_s=round(wall, 1),
                achieved_rate=round(achieved, 2), fraction=round(achieved / (args.rate - args.reserve), 3),
                lost=sum(1 for c in chats if c not in blocked and per_chat[c] == 0),
                duplicates=sum(1 for n in per_chat.values() if n > 1),
                violations=stats["violations"], blocked_marked=counts.get("blocked", 0), blocked=len(blocked),
                requests=sum(n for m, n in stats["calls"].items() if m.lower() == "sendmessage"),
                injected=f"{len(flooded)} x 429, {len(failing)} x 502", statuses=dict(counts),
                unknown=len(unknown), unknown_delivered=sum(1 for c in unknown if per_chat[c]))
    finally:
        drop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipients", type=int, default=10_000)
    ap.add_argument("--limit", type=int, default=30, help="fake server's overall limit (messages/s)")
    ap.add_argument("--rate", type=float, default=28.0, help="worker's configured rate (SEND_RATE)")
    ap.add_argument("--reserve", type=float, default=5.0, help="REPLY_RESERVE: of --rate, left to replies")
    ap.add_argument("--retry-after", type=float, default=1.0, help="retry_after of injected 429s (s)")
    ap.add_argument("--scenarios", nargs="+", default=["clean", "faults", "kill"], choices=list(SCENARIOS))
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--verbose", action="store_true", help="show the progress lines")
    args = ap.parse_args()
    print(f"fake limit {args.limit}/s overall + 1/s per chat; SEND_RATE {args.rate}/s, of which "
          f"{args.rate - args.reserve}/s for the worker; "
          f"{args.recipients} recipients; db {args.db}", flush=True)
    ok = True
    for name in args.scenarios:
        r = asyncio.run(scenario(name, args))
        print(f"\n[{r['scenario']}] delivered {r['delivered']}/{r['recipients'] - r['blocked']} in {r['wall_s']} s; "
              f"achieved {r['achieved_rate']}/s = {r['fraction']:.3f} of the worker's share (target >= 0.95"
              f"{' without faults' if name != 'clean' else ''})")
        print(f"  lost {r['lost']} (target 0) · duplicates {r['duplicates']} (target 0) · rate violations "
              f"{r['violations']} · blocked marked {r['blocked_marked']}/{r['blocked']} · "
              f"sendMessage requests {r['requests']} (injected {r['injected']})")
        print(f"  row statuses: {r['statuses']}", flush=True)
        if name == "kill":
            print(f"  SIGKILL half-way: {r['unknown']} row(s) in flight ('unknown', never re-sent), of which "
                  f"{r['unknown_delivered']} had reached the server and {r['unknown'] - r['unknown_delivered']} "
                  "were lost", flush=True)
        ok = ok and r["lost"] == 0 and r["duplicates"] == 0 and r["violations"] == 0
        if name == "clean":
            ok = ok and r["fraction"] >= 0.95
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
