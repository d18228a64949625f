"""One send budget per bot token, shared by direct replies and the delivery worker, in every process.

Two strictly spaced schedules ("next free slot" pointers, GCRA without burst):
- `all`  : every message of the token, at most `rate` per second;
- `bulk` : the delivery worker's messages, at most `rate - reserve` per second, so replies to people
           who are writing right now always find `reserve` messages a second of headroom.
A bulk message takes a bulk slot first, then an overall slot; a reply takes only an overall slot,
so it never waits behind the worker's queue. A 429 pushes the overall pointer past `retry_after`.

Where the pointers live:
- PostgreSQL: two rows of the `kv` table (`send:<channel>:<digest of the token>:all|bulk`), each
  moved by one atomic UPDATE … RETURNING against the database server's clock, so every process that
  sends for the token (`bot.py run` twice, `bot.py broadcast`, `bot.py remind`) shares them.
- SQLite (one process): the same arithmetic in memory, shared by everything in the process.

On PostgreSQL every message moves a pointer, so that UPDATE is on the path of every reply. It runs
on one connection kept by the budget (no pool checkout and ping), in autocommit (one round trip)
and with synchronous_commit=off: otherwise every send waited for a WAL flush while holding the row
lock, which serialised all replies of all processes at the disk's flush rate (~20 replies/s measured
on a loaded machine). A database crash can lose the last fraction of a second of pointer moves: the
next sends may then come a little early, and a 429 is handled (retried) like any other. The
sends waiting for a slot at the same moment share one UPDATE (n slots, spaced by the gap).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from sqlalchemy import text

log = logging.getLogger("ocop.delivery")

_LOCAL: dict[str, "LocalBudget"] = {}


def budget_key(channel: str, token: str) -> str:
    """A kv key naming the token without storing it."""
    return f"send:{channel}:{hashlib.sha256(token.encode()).hexdigest()[:16]}"


class LocalBudget:
    """The in-process budget (SQLite, or a process without a shared database)."""

    def __init__(self, rate: float, reserve: float, clock=time.monotonic):
        self.configure(rate, reserve)
        self.clock = clock
        self._next_all = self._next_bulk = 0.0

    def configure(self, rate: float, reserve: float) -> None:
        self.rate = max(0.1, float(rate))
        self.bulk_rate = max(0.1, self.rate - max(0.0, float(reserve)))

    def _take(self, which: str, gap: float) -> float:
        now = self.clock()
        attr = f"_next_{which}"
        slot = max(getattr(self, attr), now)
        setattr(self, attr, slot + gap)
        return slot - now

    async def _wait(self, which: str) -> None:
        wait = self._take(which, 1.0 / (self.bulk_rate if which == "bulk" else self.rate))
        if wait > 0:
            await asyncio.sleep(wait)

    async def bulk_slot(self) -> None:
        """The worker's share: wait for the next bulk slot (then still take an overall one)."""
        await self._wait("bulk")

    async def overall_slot(self) -> None:
        """Right before the call: the next slot of the token's overall rate."""
        await self._wait("all")

    async def slot(self, bulk: bool = False) -> None:
        if bulk:
            await self.bulk_slot()
        await self.overall_slot()

    async def pause(self, seconds: float) -> None:
        self._next_all = max(self._next_all, self.clock() + seconds)

    async def close(self) -> None:
        return None


_NOW = "extract(epoch from clock_timestamp())"
# n slots at once (every send waiting at that moment): the wait for the first; the others follow by gap
_SPAN = "CAST(:gap AS float8) * CAST(:n AS int)"
_TAKE = text(f"UPDATE kv SET value = (GREATEST(value::float8, {_NOW}) + {_SPAN})::text WHERE key = :key "
             f"RETURNING value::float8 - {_SPAN} - {_NOW}")
_PAUSE = text(f"UPDATE kv SET value = GREATEST(value::float8, {_NOW} + :seconds)::text WHERE key = :key")
_ENSURE = text("INSERT INTO kv (key, value) VALUES (:key, '0') ON CONFLICT (key) DO NOTHING")


class PgBudget(LocalBudget):
    """The same schedules in two PostgreSQL rows: the limit holds across processes."""

    def __init__(self, engine, key: str, rate: float, reserve: float):
        super().__init__(rate, reserve)
        self.engine, self.key = engine, key
        self._conn = None                   # kept: see the module docstring
        self._lock = asyncio.Lock()         # one statement at a time on it
        self._waiting: dict[str, list[asyncio.Future]] = {"all": [], "bulk": []}
        self._drainer: asyncio.Task | None = None

    async def _run(self, stmt, params: dict):
        async with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None:
                        conn = await self.engine.connect()
                        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                        await conn.execute(text("SET synchronous_commit TO off"))
                        for which in ("all", "bulk"):
                            await conn.execute(_ENSURE, {"key": f"{self.key}:{which}"})
                        self._conn = conn
                    return await self._conn.execute(stmt, params)
                except Exception:
                    await self.close()      # never back to the pool with synchronous_commit=off
                    if attempt == 2:
                        raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.invalidate()
                await conn.close()
            except Exception:
                log.debug("closing the budget connection failed", exc_info=True)

    async def _wait(self, which: str) -> None:
        fut = asyncio.get_running_loop().create_future()
        self._waiting[which].append(fut)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        wait = await fut
        if wait > 0:
            await asyncio.sleep(wait)

    async def _drain(self) -> None:
        try:
            while any(self._waiting.values()):
                for which in ("all", "bulk"):
                    futs = [f for f in self._waiting[which] if not f.done()]
                    self._waiting[which] = []
                    if not futs:
                        continue
                    gap = 1.0 / (self.bulk_rate if which == "bulk" else self.rate)
                    try:
                        res = await self._run(_TAKE, {"key": f"{self.key}:{which}", "gap": gap, "n": len(futs)})
                        first = float(res.scalar())
                    except Exception as exc:
                        for f in futs:
                            if not f.done():
                                f.set_exception(exc)
                        continue
                    for i, f in enumerate(futs):
                        if not f.done():
                            f.set_result(first + i * gap)
        finally:
            self._drainer = None

    async def pause(self, seconds: float) -> None:
        await self._run(_PAUSE, {"key": f"{self.key}:all", "seconds": float(seconds)})


def make_budget(engine, key: str, rate: float, reserve: float) -> LocalBudget:
    """PostgreSQL: a shared budget; otherwise the process-wide one for `key`."""
    if engine is not None and engine.dialect.name == "postgresql":
        return PgBudget(engine, key, rate, reserve)
    budget = _LOCAL.get(key)
    if budget is None:
        budget = _LOCAL[key] = LocalBudget(rate, reserve)
    else:
        budget.configure(rate, reserve)
    return budget
