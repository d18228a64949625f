"""Regression: two instances started at once on a new PostgreSQL database both migrate it (one used
to crash on a table the other had just created)."""
import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg

from tests.dbutil import _pg_dsn, _pg_url_for, pg_exec

ROOT = Path(__file__).resolve().parents[2]


async def test_two_upgrades_at_once_on_a_fresh_postgres_database():
    name = f"ocop_mig_{uuid.uuid4().hex[:10]}"
    pg_exec(f'CREATE DATABASE "{name}"')
    url = _pg_url_for(name)
    try:
        code = f"from storage.migrate import upgrade; upgrade({url!r})"
        procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
        results = await asyncio.gather(*(asyncio.to_thread(p.communicate, timeout=120) for p in procs))
        assert [p.returncode for p in procs] == [0, 0, 0], [err[-2000:] for _, err in results]
        conn = await asyncpg.connect(_pg_dsn(url))
        try:
            assert len(await conn.fetch("SELECT version_num FROM alembic_version")) == 1
            assert await conn.fetchval("SELECT count(*) FROM information_schema.tables "
                                       "WHERE table_name = 'processed_events'") == 1
        finally:
            await conn.close()
    finally:
        pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
