"""Engine and session factory for SQLite (aiosqlite, WAL) and PostgreSQL (asyncpg)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kw) -> AsyncEngine:
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kw)
        _sqlite_pragmas(engine.sync_engine, busy_ms=30000)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kw)


def _sqlite_pragmas(engine: Engine, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def make_inline_sqlite_engine(url: str) -> Engine | None:
    """A synchronous engine on the same SQLite file, for tiny statements run on the event loop.

    aiosqlite hands every call to a thread and back, which costs far more than a small indexed
    statement itself. This engine never waits for a lock (busy_timeout 0): a caller that finds the
    database locked falls back to the async engine, which waits in its thread. None for anything
    but a file-backed SQLite URL.
    """
    if not is_sqlite(url):
        return None
    u = make_url(url)
    if not u.database or u.database == ":memory:" or "mode=memory" in url:
        return None
    engine = create_engine(u.set(drivername="sqlite"), poolclass=StaticPool,
                           connect_args={"timeout": 0, "check_same_thread": False})
    _sqlite_pragmas(engine, busy_ms=0)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def database(url: str):
    """For command-line tools: apply migrations, then yield a sessionmaker; the engine is disposed after."""
    from storage.migrate import upgrade_async
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
