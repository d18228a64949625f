"""`bot.py backup --out FILE` and `bot.py restore --from FILE` (docs/deploy.md, "Sao lưu").

SQLite: the online backup API (sqlite3.Connection.backup) copies a consistent snapshot while the
bot keeps writing (WAL readers do not block the writer). PostgreSQL: pg_dump in its custom format
(one consistent snapshot of the database), restored with pg_restore into an empty database.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """Something the operator must fix; the message says what."""


def _sqlite_file(url: str) -> Path:
    db = make_url(url).database
    if not db or db == ":memory:":
        raise BackupError("DATABASE_URL is an in-memory SQLite database: nothing to back up")
    return Path(db)


def libpq_url(url: str) -> str:
    """postgresql+asyncpg://u:p@h/db -> postgresql://u:p@h/db (what pg_dump/pg_restore accept)."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client of the server's major version "
                          f"(Debian: apt-get install postgresql-client-15)")
    return path


def _run(cmd: list[str], what: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise BackupError(f"{what} failed: {res.stderr.strip()[-500:]}")


def backup(url: str, out: Path) -> dict:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if url.startswith("sqlite"):
        src_path = _sqlite_file(url)
        if not src_path.exists():
            raise BackupError(f"{src_path} does not exist")
        src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)                 # all pages in one step: one consistent snapshot
        finally:
            dst.close()
            src.close()
        engine = "sqlite"
    elif url.startswith("postgresql"):
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={tmp}",
              f"--dbname={libpq_url(url)}"], "pg_dump")
        engine = "postgresql"
    else:
        raise BackupError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]}")
    os.replace(tmp, out)
    os.chmod(out, 0o600)                    # a backup holds personal data (phones, names)
    return {"engine": engine, "file": str(out), "bytes": out.stat().st_size}


def backup_kind(path: Path) -> str:
    head = Path(path).read_bytes()[:16]
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite database nor a pg_dump custom-format file")


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    con = sqlite3.connect(path)
    try:
        return con.execute("select count(*) from sqlite_master where type='table'").fetchone()[0] > 0
    finally:
        con.close()


async def _pg_has_tables(url: str) -> bool:
    import asyncpg
    conn = await asyncpg.connect(libpq_url(url), timeout=15)
    try:
        return bool(await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'"))
    finally:
        await conn.close()


def restore(url: str, src: Path, *, force: bool = False) -> dict:
    """Restore `src` into the database of `url`. Refuses a non-empty target unless force."""
    import asyncio
    src = Path(src)
    if not src.exists():
        raise BackupError(f"{src} does not exist")
    kind = backup_kind(src)
    target = "sqlite" if url.startswith("sqlite") else "postgresql" if url.startswith("postgresql") else "?"
    if kind != target:
        raise BackupError(f"{src} is a {kind} backup but DATABASE_URL is {target}")
    if kind == "sqlite":
        dst_path = _sqlite_file(url)
        if _sqlite_has_tables(dst_path) and not force:
            raise BackupError(f"{dst_path} already holds tables: stop the bot and use --force to overwrite it")
        dst_path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{dst_path}{suffix}").unlink(missing_ok=True)
        s, d = sqlite3.connect(src), sqlite3.connect(dst_path)
        try:
            s.backup(d)
        finally:
            d.close()
            s.close()
    else:
        if asyncio.run(_pg_has_tables(url)) and not force:
            raise BackupError("the target database already holds tables: restore into a new empty database "
                              "(createdb) or use --force (drops and recreates the objects of the backup)")
        cmd = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               f"--dbname={libpq_url(url)}"]
        if force:
            cmd[1:1] = ["--clean", "--if-exists"]
        _run(cmd + [str(src)], "pg_restore")
    return {"engine": kind, "file": str(src)}


def server_major(url: str) -> int | None:
    """Major version of the PostgreSQL server (for the pg_dump version advice)."""
    import asyncio

    import asyncpg

    async def get():
        conn = await asyncpg.connect(libpq_url(url), timeout=15)
        try:
            return conn.get_server_version().major
        finally:
            await conn.close()
    try:
        return asyncio.run(get())
    except Exception:
        return None


def pg_dump_major() -> int | None:
    path = shutil.which("pg_dump")
    if not path:
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", subprocess.run([path, "--version"], capture_output=True, text=True).stdout)
    return int(m.group(1)) if m else None
