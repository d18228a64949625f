"""`bot.py backup` during traffic, restored into a fresh database: the bot starts on it and every row is there."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import select

from channels.telegram import TelegramChannel
from core.runtime import Runtime
from handlers.ops.backup import BackupError, backup, backup_kind, restore
from storage.db import make_engine
from storage.models import Base
from tests.dbutil import _pg_url_for, pg_exec

ROOT = Path(__file__).resolve().parents[2]
SKIP_TABLES = {"alembic_version"}
QUESTIONS = ["hồ sơ OCOP gồm những gì", "giấy chứng nhận có hiệu lực bao lâu", "đăng ký OCOP ở đâu",
             "sản phẩm 3 sao cần gì", "xin chào"]


def fresh_url(kind: str, tmp_path: Path, db_templates) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / f'restored_{uuid.uuid4().hex[:6]}.db'}"
    name = f"ocop_r_{uuid.uuid4().hex[:12]}"
    pg_exec(f'CREATE DATABASE "{name}"')
    db_templates.created_pg.append(name)
    return _pg_url_for(name)


async def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key."""
    engine = make_engine(url)
    out = {}
    try:
        async with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name in SKIP_TABLES:
                    continue
                rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
                out[table.name] = [tuple(r) for r in rows]
    finally:
        await engine.dispose()
    return out


async def start_bot(url, tg, make_settings) -> Runtime:
    settings = make_settings(url, telegram_token=tg.token, telegram_api_url=tg.url)
    rt = Runtime(settings)
    rt.add_channel(TelegramChannel(rt, poll_timeout=1))
    await rt.start(with_scheduler=False, with_http=False)
    return rt


async def test_backup_during_traffic_restores_every_row(tg, db_url, make_settings, tmp_path, db_templates):
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    rt = await start_bot(db_url, tg, make_settings)
    chats = list(range(7000, 7060))
    try:
        for i, chat in enumerate(chats):                      # traffic: /start then a question, 60 people
            tg.push_command(chat, "start")
            tg.push_text(chat, QUESTIONS[i % len(QUESTIONS)])
        await tg.wait_for(lambda: len(tg.sent) >= 20, timeout=60)
        during = tmp_path / f"during.{kind}"
        res = await asyncio.to_thread(backup, db_url, during)     # the bot keeps answering meanwhile
        sent_when_done = len(tg.sent)
        await tg.wait_for(lambda: all(len(tg.sent_to(c)) >= 2 for c in chats), timeout=120)
        assert sent_when_done < len(tg.sent), "the backup should overlap the traffic"
    finally:
        await rt.stop()
    assert res["engine"] == kind and backup_kind(during) == kind and oct(during.stat().st_mode)[-3:] == "600"
    source = await dump(db_url)
    assert len(source["users"]) == len(chats) and len(source["faq_log"]) >= len(chats) - len(chats) // 5 - 1

    # the copy taken during traffic: a consistent snapshot (every row it has is the source's row)
    target = fresh_url(kind, tmp_path, db_templates)
    await asyncio.to_thread(restore, target, during)
    snap = await dump(target)
    assert 0 < len(snap["users"]) <= len(source["users"])
    by_id = {t: {r[0]: r for r in rows} for t, rows in source.items()}
    users_cols = [c.name for c in Base.metadata.tables["users"].columns]
    stable = [users_cols.index(c) for c in ("id", "display_name", "created_at")]
    for row in snap["users"]:
        assert [row[i] for i in stable] == [by_id["users"][row[0]][i] for i in stable]
    for table in ("identities", "faq_log"):
        cols = [c.name for c in Base.metadata.tables[table].columns]
        keep = [i for i, c in enumerate(cols) if c not in ("last_interaction_at", "last_message_id")]
        for row in snap[table]:
            assert [row[i] for i in keep] == [by_id[table][row[0]][i] for i in keep]
    assert {r[1] for r in snap["identities"]} <= {r[0] for r in snap["users"]}   # no identity without its user

    # a copy of the quiet database: restored row by row, and the bot runs on it
    quiet = tmp_path / f"quiet.{kind}"
    await asyncio.to_thread(backup, db_url, quiet)
    target2 = fresh_url(kind, tmp_path, db_templates)
    await asyncio.to_thread(restore, target2, quiet)
    assert await dump(target2) == source
    tg.reset()
    rt2 = await start_bot(target2, tg, make_settings)
    try:
        tg.push_command(chats[0], "start")                   # someone known before the backup
        tg.push_command(9999, "start")                       # someone new
        await tg.wait_sent(1, chat_id=9999, timeout=30)
        await tg.wait_sent(1, chat_id=chats[0], timeout=30)
    finally:
        await rt2.stop()
    after = await dump(target2)
    assert len(after["users"]) == len(source["users"]) + 1


def run_cli(args, url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    env.update({"DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": "", "ZALO_MODE": ""})
    return subprocess.run([sys.executable, "bot.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)


async def test_backup_and_restore_commands(db_url, make_core, tmp_path, db_templates):
    from tests.helpers import msg
    core = make_core(db_url)
    await core.handle(msg("/start", user="cli1"))
    await core.close()
    out = tmp_path / "ocop.backup"
    res = await asyncio.to_thread(run_cli, ["backup", "--out", str(out)], db_url, tmp_path)
    assert res.returncode == 0 and "Backup written" in res.stdout, res.stderr
    refused = await asyncio.to_thread(run_cli, ["restore", "--from", str(out)], db_url, tmp_path)
    assert refused.returncode == 1 and "--force" in refused.stderr          # never over a live database by accident
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    target = fresh_url(kind, tmp_path, db_templates)
    res = await asyncio.to_thread(run_cli, ["restore", "--from", str(out)], target, tmp_path)
    assert res.returncode == 0, res.stderr
    assert await dump(target) == await dump(db_url)
    other = "postgresql+asyncpg://postgres@127.0.0.1:5432/x" if kind == "sqlite" else f"sqlite+aiosqlite:///{tmp_path}/x.db"
    try:
        restore(other, out)
    except BackupError as exc:
        assert "backup" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a backup of one engine must not restore into the other")
