#!/usr/bin/env python3
"""Replies under load: three processes sending for one bot token against the fake Bot API.

    .venv/bin/python bench/burst.py                          # 2,000 recipients, PostgreSQL
    .venv/bin/python bench/burst.py --recipients 10000       # officer answer during a long broadcast

Two `bot.py run` (both polling, both running the delivery worker) and one `bot.py broadcast` share a
PostgreSQL database and the token. The fake Bot API runs in its own process and answers 429 with
retry_after as Telegram does (more than 30 sends a second overall, more than 3 a second to one chat).
While the broadcast goes out:
- 20 producers ask a FAQ question at the same moment: how many got their answer, and how fast;
- one producer sends four questions at once: how many answers;
- an officer answers a question (/cauhoi flow): the answer's latency to the producer;
then, over the whole run: the highest number of messages accepted in any 1-second window (target
<= 30), 429s answered by the fake, ERROR lines and tracebacks in the bots' logs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.broadcast import make_db  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.models import Identity, OfficerQuestion  # noqa: E402
from tests.fakes.telegram_checks import max_per_second  # noqa: E402
from tests.bulk import add_producers  # noqa: E402

QUESTION = "Giấy chứng nhận OCOP có thời hạn bao lâu?"
FOUR = [QUESTION, "OCOP là gì?", "Hồ sơ đánh giá OCOP gồm những gì?", "gcn ocop co thoi han bao lau"]
BROADCAST = "Thông báo: hội chợ OCOP {{ tinh }} mở đăng ký"
ANSWER = "Trả lời của cán bộ: nộp hồ sơ tại UBND xã"
OFFICER = 1000


class Fake:
    """`python -m tests.fakes.telegram_api` (Telegram's limits by default) driven over /_fake/*."""

    async def __aenter__(self):
        import aiohttp
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.fakes.telegram_api",
                                                         cwd=str(ROOT), stdout=asyncio.subprocess.PIPE)
        info = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), 30))
        self.url, self.token = info["url"], info["token"]
        self.http = aiohttp.ClientSession()
        return self

    async def post(self, path: str, body: dict):
        async with self.http.post(f"{self.url}{path}", json=body) as r:
            r.raise_for_status()
            return await r.json()

    async def get(self, path: str):
        async with self.http.get(f"{self.url}{path}") as r:
            return await r.json()

    async def sent_to(self, chat: int) -> list[dict]:
        return await self.get(f"/_fake/sent?chat_id={chat}")

    async def __aexit__(self, *exc):
        await self.http.close()
        self.proc.terminate()
        await self.proc.wait()



def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_until(predicate, timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if await predicate():
            return True
        await asyncio.sleep(step)
    return False


async def replies_since(fake: Fake, chat: int, since: float) -> list[dict]:
    return [m for m in await fake.sent_to(chat) if m["t"] >= since and not m["text"].startswith("Thông báo")]


async def run(args) -> dict:
    url, drop = make_db(args.db)
    logs = Path(tempfile.mkdtemp(prefix="burst_"))
    procs: list[asyncio.subprocess.Process] = []
    try:
        async with Fake() as fake:
            engine = make_engine(url)
            sm = make_sessionmaker(engine)
            chats = await add_producers(sm, args.recipients)
            async with sm() as s, s.begin():
                ident = await s.scalar(select(Identity).where(Identity.chat_id == str(chats[0])))
                q = OfficerQuestion(user_id=ident.user_id, province="dong_thap", question="Hồ sơ nộp ở đâu?")
                s.add(q)
            await engine.dispose()
            env = dict(os.environ, DATABASE_URL=url, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.url,
                       ADMIN_IDS=f"telegram:{OFFICER}", SEND_RATE=str(args.rate),
                       REPLY_RESERVE=str(args.reserve), PER_CHAT_INTERVAL="1")
            bot = [sys.executable, str(ROOT / "bot.py")]
            for i in range(args.runs):
                out = open(logs / f"run{i}.log", "w")       # each its own /healthz port (else one exits)
                procs.append(await asyncio.create_subprocess_exec(*bot, "run", env=dict(env, HTTP_PORT=str(free_port())),
                                                                  cwd=str(ROOT), stdout=out, stderr=out))
            await wait_until(lambda: _calls(fake, "getme", args.runs), 60)
            await asyncio.sleep(2)
            out = open(logs / "broadcast.log", "w")
            procs.append(await asyncio.create_subprocess_exec(*bot, "broadcast", "--text", BROADCAST, env=env,
                                                              cwd=str(ROOT), stdout=out, stderr=out))
            started = time.monotonic()
            await wait_until(lambda: _sent_at_least(fake, 100), 120)

            # 20 producers ask at the same moment
            askers = chats[1:21]
            t0 = time.monotonic()
            await fake.post("/_fake/push_many", {"items": [{"kind": "text", "chat_id": c, "text": QUESTION}
                                                            for c in askers]})
            answered_at: dict[int, float] = {}

            async def all_answered():
                for c in askers:
                    if c not in answered_at:
                        got = await replies_since(fake, c, t0)
                        if got:
                            answered_at[c] = got[0]["t"] - t0
                return len(answered_at) == len(askers)
            await wait_until(all_answered, 60, 0.2)

            # four questions at once from one person
            one = chats[30]
            t1 = time.monotonic()
            await fake.post("/_fake/push_many", {"items": [{"kind": "text", "chat_id": one, "text": x} for x in FOUR]})

            async def four():
                return len(await replies_since(fake, one, t1)) >= 4
            await wait_until(four, 30, 0.2)
            four_answers = len(await replies_since(fake, one, t1))

            # an officer answers the question of chats[0] during the broadcast
            await fake.post("/_fake/push", {"kind": "command", "chat_id": OFFICER, "command": "start"})
            await asyncio.sleep(1.5)
            await fake.post("/_fake/push", {"kind": "callback", "chat_id": OFFICER, "data": f"q:a:{q.id}"})
            await asyncio.sleep(1.5)
            t2 = time.monotonic()
            await fake.post("/_fake/push", {"kind": "text", "chat_id": OFFICER, "text": ANSWER})

            async def answer_arrived():
                return any(ANSWER in m["text"] for m in await fake.sent_to(chats[0]))
            got = await wait_until(answer_arrived, 120, 0.05)
            latency = next((m["t"] for m in await fake.sent_to(chats[0]) if ANSWER in m["text"]), None)
            latency = round(latency - t2, 2) if got and latency else None
            broadcast_sent_then = (await fake.get("/_fake/stats"))["sent"]

            # the rest of the broadcast (or a bounded slice of a long one)
            bc = procs[-1]
            try:
                await asyncio.wait_for(bc.wait(), timeout=args.tail)
            except asyncio.TimeoutError:
                pass
            wall = time.monotonic() - started
            queued_to_sent = await _answer_row_latency(url)
            stats = await fake.get("/_fake/stats")
            sends = await fake.get("/_fake/sent")
            await stop(procs)                      # while the fake still answers
            times = [m["t"] for m in sends]
            return dict(
                recipients=args.recipients, processes=args.runs + 1, wall_s=round(wall, 1), sent=len(sends),
                broadcast_done=bc.returncode == 0, max_per_second=max_per_second(times),
                mean_rate=round((len(times) - 1) / (max(times) - min(times)), 1) if len(times) > 1 else 0,
                refused_429=stats.get("rejected_by_status", {}).get("429", 0), violations=stats["violations"],
                askers=len(askers), askers_answered=len(answered_at),
                slowest_answer_s=round(max(answered_at.values()), 2) if answered_at else None,
                four_answers=four_answers, officer_answer_latency_s=latency,
                answer_queued_to_sent_s=queued_to_sent,
                broadcast_sent_before_answer=broadcast_sent_then,
                **_log_counts(logs))
    finally:
        await stop(procs)
        drop()


async def stop(procs) -> None:
    for p in procs:
        if p.returncode is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            await asyncio.wait_for(p.wait(), 30)
        except asyncio.TimeoutError:
            p.kill()


async def _answer_row_latency(url: str) -> float | None:
    """From the answer's delivery row being queued to it being sent (the worker's part)."""
    from storage.models import Delivery
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            row = await s.scalar(select(Delivery).where(Delivery.kind == "answer"))
    finally:
        await engine.dispose()
    if row is None or row.sent_at is None:
        return None
    return round((row.sent_at - row.created_at).total_seconds(), 2)


async def _calls(fake: Fake, method: str, n: int) -> bool:
    return (await fake.get("/_fake/stats"))["calls"].get(method, 0) >= n


async def _sent_at_least(fake: Fake, n: int) -> bool:
    return (await fake.get("/_fake/stats"))["sent"] >= n


def _log_counts(logs: Path) -> dict:
    text = "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
    lines = text.splitlines()
    return dict(log_errors=sum(1 for x in lines if " ERROR " in x), tracebacks=text.count("Traceback"),
                log_429_warnings=sum(1 for x in lines if " WARNING " in x and "429" in x), logs=str(logs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipients", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=2, help="`bot.py run` processes beside `bot.py broadcast`")
    ap.add_argument("--rate", type=float, default=25.0, help="SEND_RATE (per token, all processes)")
    ap.add_argument("--reserve", type=float, default=5.0, help="REPLY_RESERVE")
    ap.add_argument("--tail", type=float, default=150.0, help="seconds to let the broadcast finish afterwards")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    args = ap.parse_args()
    r = asyncio.run(run(args))
    print(json.dumps(r, ensure_ascii=False, indent=1))
    print(f"\n{r['processes']} sending processes ({args.runs} × bot.py run + bot.py broadcast), {args.db}, "
          f"{r['recipients']} recipients, SEND_RATE {args.rate} (reply reserve {args.reserve})")
    print(f"- 20 producers asking at once: {r['askers_answered']}/{r['askers']} answered "
          f"(slowest {r['slowest_answer_s']} s)")
    print(f"- four questions at once from one person: {r['four_answers']} answers")
    print(f"- officer answer during the broadcast: queued -> sent {r['answer_queued_to_sent_s']} s; "
          f"typed -> received {r['officer_answer_latency_s']} s (includes picking up the officer's update "
          f"between two pollers); {r['broadcast_sent_before_answer']} messages already sent")
    print(f"- highest 1-second window: {r['max_per_second']} messages (target <= 30); mean {r['mean_rate']}/s; "
          f"429s {r['refused_429']}; ERROR lines {r['log_errors']}, tracebacks {r['tracebacks']}")
    ok = (r["askers_answered"] == r["askers"] and r["four_answers"] == 4 and r["max_per_second"] <= 30
          and r["answer_queued_to_sent_s"] is not None and r["answer_queued_to_sent_s"] < 5)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
