"""Fresh, migrated databases for tests: SQLite files and PostgreSQL databases (never skipped).

A migrated template is built once per test session; each test gets a copy
(SQLite: file copy; PostgreSQL: CREATE DATABASE … TEMPLATE …).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg

from storage.migrate import upgrade

PG_ADMIN_URL = os.environ.get("OCOP_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _pg_url_for(db: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{db}"


async def _pg_exec(sql: str) -> None:
    conn = await asyncpg.connect(_pg_dsn(PG_ADMIN_URL), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_exec(sql: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_pg_exec(sql))
        return
    import threading
    err = []
    t = threading.Thread(target=lambda: _safe(err, sql))
    t.start()
    t.join()
    if err:
        raise err[0]


def _safe(err, sql):
    try:
        asyncio.run(_pg_exec(sql))
    except BaseException as e:  # pragma: no cover
        err.append(e)


class Templates:
    def __init__(self, tmp_root: Path):
        self.tmp_root = tmp_root
        self.sqlite_template: Path | None = None
        self.pg_template: str | None = None
        self.created_pg: list[str] = []

    def sqlite(self) -> str:
        if self.sqlite_template is None:
            self.sqlite_template = self.tmp_root / "template.db"
            upgrade(f"sqlite+aiosqlite:///{self.sqlite_template}")
        target = self.tmp_root / f"t_{uuid.uuid4().hex[:10]}.db"
        shutil.copy(self.sqlite_template, target)
        return f"sqlite+aiosqlite:///{target}"

    def postgres(self) -> str:
        if self.pg_template is None:
            name = f"ocop_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            pg_exec(f'CREATE DATABASE "{name}"')
            self.created_pg.append(name)
            upgrade(_pg_url_for(name))
            self.pg_template = name
        db = f"ocop_t_{uuid.uuid4().hex[:12]}"
        pg_exec(f'CREATE DATABASE "{db}" TEMPLATE "{self.pg_template}"')
        self.created_pg.append(db)
        return _pg_url_for(db)

    def cleanup(self) -> None:
        for db in reversed(self.created_pg):
            try:
                pg_exec(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            except Exception:  # pragma: no cover
                pass
