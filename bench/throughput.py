"""Updates per second through our Telegram adapter vs a bare PTB echo bot, on the same fake server.

    .venv/bin/python bench/throughput.py [--updates 2000] [--chats 1000] [--text QUESTION] [--db URL …]
                                         [--concurrency N …]

By default one run measures a FAQ question on both databases: a fresh SQLite file and a fresh
PostgreSQL database (OCOP_BENCH_PG_URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/
ocop_bench_throughput, dropped and created). Targets: ours/echo >= 0.7 on PostgreSQL, >= 0.6 on SQLite.

The fake Bot API server (tests/fakes/telegram_api.py) runs in a subprocess. Each bot in turn polls it;
we queue N text updates spread over C private chats and time until every one of them has been
answered (sendMessage accepted by the fake). Both bots process updates concurrently across chats;
ours keeps updates of one chat in order. Every bot is measured at every concurrency given
(default 1, 4, 8 and 64, the same for every bot) and its best counts: the ratio is our best against
the echo bot's best. On the 2-core machine the echo bot is fastest at 1-8 (it slows down as its
httpx pool gets more concurrent requests), ours at 32-64; 64 is what `bot.py run` uses
(TelegramChannel's default): updates in flight together share one group-commit transaction, so 8 in
flight pay a batch's fixed cost for about 4 updates.
- "ours": core.runtime.Runtime + channels.telegram.TelegramChannel, the full core (user lookup and
  update in the database, routing, Jinja2 template, inline keyboard), once per database.
With --detail two more bots are measured:
- "adapter": the same Runtime + TelegramChannel with core.handle replaced by an echo (Reply(text)):
  what our adapter alone costs (Update -> Incoming, per-chat ordering, HTML safety, rendering) for
  exactly the echo bot's output, without the core's database work.
- "echo": a bare PTB Application whose only handler replies the same text (PTB's defaults, httpx).
- "echo-aiohttp": the same echo bot on our PTB transport (channels.telegram_http.AiohttpRequest),
  printed so the reader can see how much of the margin is the transport and how much the core costs
  next to a bot doing nothing on the same transport.
Each "ours" line also gives the ratio of each round and the SQL statements and round trips
(statements + BEGIN/COMMIT) per update, counted on the bot's engine during the measured updates.
Run it on an otherwise idle machine: the fake server and the bot share the cores.
"""
from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram.ext import Application, MessageHandler, filters  # noqa: E402

from channels.telegram import TelegramChannel  # noqa: E402
from channels.telegram_http import AiohttpRequest  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.messages import Reply  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402


class FakeServer:
    """The fake Bot API in a child process, driven through its /_fake control routes."""

    def __init__(self):
        # Telegram's flood limits off: this measures how fast each bot can answer, not the limit
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0",
                                      "--rate", "0", "--per-chat", "0"],
                                     cwd=ROOT, stdout=subprocess.PIPE, text=True)
        ready = json.loads(self.proc.stdout.readline())
        self.url, self.token = ready["url"], ready["token"]
        self.http: ClientSession | None = None

    async def stats(self) -> dict:
        async with self.http.get(f"{self.url}/_fake/stats") as r:
            return await r.json()

    async def sent(self, chat_id: int) -> list[dict]:
        async with self.http.get(f"{self.url}/_fake/sent", params={"chat_id": str(chat_id)}) as r:
            return await r.json()

    async def push_many(self, items: list[dict]) -> None:
        async with self.http.post(f"{self.url}/_fake/push_many", json={"items": items}) as r:
            assert r.status == 200, await r.text()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


def updates(n: int, chats: int, text: str, base_chat: int) -> list[dict]:
    return [{"kind": "text", "chat_id": base_chat + i % chats, "text": text} for i in range(n)]


CPU_MS: dict[str, list[float]] = {}      # CPU of this process (the bot) per update, ms
SQL: dict[str, list[tuple[float, float]]] = {}   # per update: SQL statements, database round trips


class SqlCounter:
    """Counts what the bot sends to its database: statements (cursor executes, an executemany is one)
    and round trips (statements plus BEGIN and COMMIT; on SQLite these are calls into the library)."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.statements = self.trips = 0
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._stmt)
        for name in ("begin", "commit", "rollback"):
            event.listen(sync, name, self._trip)

    def _stmt(self, *a):
        self.statements += 1
        self.trips += 1

    def _trip(self, *a):
        self.trips += 1


COUNTERS: dict[str, SqlCounter] = {}


async def measure(fake: FakeServer, n: int, chats: int, text: str, base_chat: int, name: str = "") -> float:
    """Queue n updates, wait until n more messages were sent; returns updates per second."""
    before = await fake.stats()
    start_sent = before["sent"]
    counter = COUNTERS.get(name)
    s0 = (counter.statements, counter.trips) if counter else None
    t0, c0 = time.perf_counter(), time.process_time()
    await fake.push_many(updates(n, chats, text, base_chat))
    while True:
        st = await fake.stats()
        if st["sent"] - start_sent >= n:
            break
        if time.perf_counter() - t0 > 300:
            raise RuntimeError(f"timed out: {st}")
        await asyncio.sleep(0.02)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if st["rejected"] > before["rejected"]:
        raise RuntimeError(f"the fake rejected calls: {st['last_rejected']}")
    CPU_MS.setdefault(name, []).append(cpu / n * 1000)
    if counter:
        SQL.setdefault(name, []).append(((counter.statements - s0[0]) / n, (counter.trips - s0[1]) / n))
    return n / elapsed


BATCHES: dict[str, list[float]] = {}      # requests per group-commit transaction in each "ours" run


async def start_echo(fake: FakeServer, concurrency: int, aiohttp: bool = False) -> Application:
    async def echo(update, context):
        await update.message.reply_text(update.message.text)
    builder = (Application.builder().token(fake.token).base_url(f"{fake.url}/bot")
               .base_file_url(f"{fake.url}/file/bot").concurrent_updates(concurrency))
    if aiohttp:
        builder = (builder.request(AiohttpRequest(connection_pool_size=max(8, concurrency)))
                   .get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=20)))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=10)
    return app


async def stop_echo(app: Application) -> None:
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def start_ours(fake: FakeServer, db_url: str, concurrency: int, stub: bool) -> Runtime:
    # the send budget is still taken for every reply (on PostgreSQL: its UPDATE), but does not bind
    settings = load_settings(database_url=db_url, telegram_token=fake.token, telegram_api_url=fake.url,
                             webhook_url="", send_rate=100_000.0)
    rt = Runtime(settings)
    rt.add_channel(TelegramChannel(rt, poll_timeout=10, concurrency=concurrency))
    if stub:
        async def handle(msg):
            return [Reply(html.escape(msg.text))]
        rt.core.handle = handle
    await rt.start(with_worker=False, with_scheduler=False, with_http=False)
    return rt


async def start_bot(bot: str, name: str, fake: FakeServer, db_url: str, concurrency: int):
    if bot.startswith("echo"):
        return await start_echo(fake, concurrency, aiohttp=bot == "echo-aiohttp")
    rt = await start_ours(fake, db_url, concurrency, stub=bot == "adapter")
    COUNTERS[name] = SqlCounter(rt.core.engine)
    return rt


async def stop_bot(name: str, bot) -> None:
    if name.startswith("ours"):
        t = bot.core.writes
        BATCHES.setdefault(name, []).append(t.requests / max(1, t.batches))
    await (stop_echo(bot) if name.startswith("echo") else bot.stop())


PG_URL = os.environ.get("OCOP_BENCH_PG_URL",
                        "postgresql+asyncpg://postgres@127.0.0.1:5432/ocop_bench_throughput")


async def fresh_postgres(url: str) -> str:
    import asyncpg
    base, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(base.replace("postgresql+asyncpg://", "postgresql://") + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url


async def run(args) -> dict:
    fake = FakeServer()
    tmp = tempfile.TemporaryDirectory()
    dbs = {}
    for url in args.db or ["sqlite", PG_URL]:
        if url == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp.name}/bench.db"
        elif url.startswith("postgresql") and not args.db:
            url = await fresh_postgres(url)
        await upgrade_async(url)
        dbs["ours:" + url.split(":", 1)[0].split("+")[0]] = url
    bots = ["echo", *dbs] + (["adapter", "echo-aiohttp"] if args.detail else [])
    names = [f"{bot}@{c}" for bot in bots for c in args.concurrency]
    results: dict[str, list[float]] = {name: [] for name in names}
    try:
        async with ClientSession() as fake.http:
            for rnd in range(args.rounds):
                for name in names:
                    bot_name, c = name.rsplit("@", 1)
                    bot = await start_bot(bot_name, name, fake, dbs.get(bot_name, next(iter(dbs.values()))), int(c))
                    base = 10_000 * (1 + rnd)                       # same chats for every bot per round
                    await measure(fake, max(200, args.chats), args.chats, args.text, base)   # warm-up: everyone known
                    results[name].append(await measure(fake, args.updates, args.chats, args.text, base, name))
                    await stop_bot(name, bot)
                    await check_answers(fake, base, args.chats, bot_name, args.text)
    finally:
        fake.close()
        tmp.cleanup()
    ROUNDS.update(results)
    return {k: max(v) for k, v in results.items()}


async def check_answers(fake: FakeServer, base: int, chats: int, bot: str, text: str) -> None:
    """What the bot sent to a few of the chats is the answer (the text, or our FAQ answer with its
    buttons): a bot answering fast with an apology must not count."""
    if bot.startswith("echo") or bot == "adapter":
        want, buttons = html.escape(text), []
    else:
        from core.faq import get_renderer
        from channels.telegram_render import safe_html
        ans = get_renderer().respond(text)
        want = safe_html(ans.text)
        buttons = [f"fq:up:{ans.faq_id}"] if ans.outcome == "answer" else []
    for chat in (base, base + chats // 2, base + chats - 1):     # the bots run in turn: the last message is this one's
        sent = await fake.sent(chat)
        if not sent or sent[-1]["text"] != want:
            raise RuntimeError(f"{bot} sent chat {chat} something else: {[m['text'][:80] for m in sent[-1:]]}")
        got = [b.get("callback_data") for b in ((sent[-1].get("reply_markup") or {}).get("inline_keyboard") or [[]])[0]]
        if buttons and buttons[0] not in got:
            raise RuntimeError(f"{bot}: the answer in chat {chat} lacks its buttons: {got}")


def best(res: dict[str, float], bot: str) -> tuple[float, str]:
    """A bot's best figure over the concurrencies, and the name (bot@concurrency) that made it."""
    name = max((k for k in res if k.rsplit("@", 1)[0] == bot), key=res.__getitem__)
    return res[name], name


ROUNDS: dict[str, list[float]] = {}       # updates/s of every round (echo and ours measured back to back)


TARGETS = {"postgresql": 0.7, "sqlite": 0.6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--chats", type=int, default=1000,
                    help="at most 2 updates per chat: our per-chat pacing (3 a second) does not bind")
    ap.add_argument("--text", default="gcn ocop co thoi han bao lau", help="what every update says")
    ap.add_argument("--concurrency", type=int, action="append", default=[],
                    help="concurrent updates, repeatable; every bot is measured at each, its best counts "
                         "(default: 1, 4, 8 and 64)")
    ap.add_argument("--rounds", type=int, default=2, help="alternate the bots this many times; best kept")
    ap.add_argument("--db", action="append", default=[],
                    help="database URL for ours, repeatable; 'sqlite' = a fresh file (default: both)")
    ap.add_argument("--detail", action="store_true", help="also the adapter alone and echo on aiohttp")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.concurrency = args.concurrency or [1, 4, 8, 64]
    res = asyncio.run(run(args))
    echo, echo_name = best(res, "echo")
    print(f"updates={args.updates} chats={args.chats} text={args.text!r} concurrency={args.concurrency}")
    cpu = {k: min(v) for k, v in CPU_MS.items()}
    for name, value in res.items():
        print(f"  {name:24s} {value:8.1f} updates/s   bot CPU {cpu[name]:.2f} ms/update"
              + (f"   requests per group commit {min(BATCHES[name]):.1f}-{max(BATCHES[name]):.1f}"
                 if name in BATCHES else ""))
    print(f"bare PTB echo bot : {echo:8.1f} updates/s   (best: {echo_name})")
    for bot in dict.fromkeys(k.rsplit("@", 1)[0] for k in res):
        if not bot.startswith("ours:"):
            continue
        value, name = best(res, bot)
        db = bot.split(":", 1)[1]
        target = TARGETS.get(db, 0.7)
        print(f"ours on {db:10s}: {value:8.1f} updates/s   ratio ours/echo {value / echo:5.2f} "
              f"(target >= {target}: {'met' if value / echo >= target else 'NOT met'})   best: {name}")
        rounds = [max(ROUNDS[f"{bot}@{c}"][r] for c in args.concurrency) /
                  max(ROUNDS[f"echo@{c}"][r] for c in args.concurrency) for r in range(args.rounds)]
        print(f"{'':19s}ratio in each round (less moved by load changing between rounds): "
              + ", ".join(f"{x:.2f}" for x in rounds))
        stmts, trips = min(SQL[name])
        print(f"{'':19s}SQL per update at {name.rsplit('@', 1)[1]}: {stmts:.2f} statements, {trips:.2f} round trips "
              f"(with BEGIN/COMMIT, amortised over the batches)")
    if args.detail:
        adapter, name = best(res, "adapter")
        print(f"our adapter only  : {adapter:8.1f} updates/s   ratio adapter/echo {adapter / echo:5.2f} ({name})")
        print(f"echo bot on our transport (aiohttp): {best(res, 'echo-aiohttp')[0]:8.1f} updates/s")


if __name__ == "__main__":
    main()
