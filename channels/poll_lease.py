"""One poller per bot token across processes (PostgreSQL session advisory lock).

Telegram (and the fake) end a running getUpdates with 409 Conflict when another one arrives. Two
`bot.py run` polling the same token therefore cut each other's long polls, and PTB's back-off after
each 409 grows to 30 s: an update could wait that long. On PostgreSQL the processes agree instead:
the one holding the lock polls; the others only send (delivery worker, replies) and take over within
`retry` seconds when the poller stops or dies (the lock goes with its connection). On SQLite (one
process) polling starts at once.
"""
from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("ocop.poll_lease")

NAMESPACE = 0x0C0C << 48          # bigint advisory-lock keys of this module (migrations use 5_120_026)


def lock_key(token: str) -> int:
    """The bot's id (the token's part before ':'), else a CRC of the token; never the token itself."""
    head = token.split(":", 1)[0]
    return NAMESPACE | (int(head) if head.isdigit() else zlib.crc32(token.encode())) & ((1 << 48) - 1)


class PollLease:
    def __init__(self, engine: AsyncEngine, token: str, retry: float = 5.0):
        self.engine, self.key, self.retry = engine, lock_key(token), retry
        self._conn: AsyncConnection | None = None
        self._task: asyncio.Task | None = None
        self.polling = False                    # this process polls (it holds the lease, or SQLite)

    async def start(self, poll: Callable[[], Awaitable[None]]) -> None:
        """Run `poll()` now if this process gets the lease, else as soon as it does."""
        if self.engine.dialect.name != "postgresql" or await self._try():
            self.polling = True
            await poll()
            return
        log.info("another process polls Telegram for this bot; this one sends only and takes over if it stops")
        self._task = asyncio.create_task(self._wait(poll))

    async def _try(self) -> bool:
        conn = await self.engine.connect()
        try:
            got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}))
            await conn.commit()                 # a session lock outlives the transaction
        except BaseException:
            await conn.close()
            raise
        if got:
            self._conn = conn                   # kept checked out: closing it releases the lease
        else:
            await conn.close()
        return got

    async def _wait(self, poll) -> None:
        while True:
            await asyncio.sleep(self.retry)
            try:
                if await self._try():
                    log.info("this process now polls Telegram for this bot")
                    self.polling = True
                    await poll()
                    return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("poll lease: database unavailable, trying again in %.0f s", self.retry)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        conn, self._conn = self._conn, None
        if conn is not None:
            try:                                # the pool keeps the connection: unlock explicitly
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                await conn.commit()
                await conn.close()
            except Exception:
                log.debug("releasing the poll lease failed; dropping its connection", exc_info=True)
                await conn.invalidate()
