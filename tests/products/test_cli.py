"""bot.py import-certificates / claim-code / add-round / remind as an officer runs them (subprocesses)."""
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from storage.db import make_engine, make_sessionmaker
from storage.models import Certificate, Delivery, Identity, User
from tests.products.util import BAD, GOOD, csv_bytes, xlsx_bytes  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def bot(url, *args):
    """Run bot.py; arguments like "NAME=value" become environment variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    env.update({"DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": "", "ZALO_MODE": "", "BOT_USERNAME": "ocop_test_bot"})
    env.update(a.split("=", 1) for a in args if "=" in a and a.split("=", 1)[0].isupper())
    args = [a for a in args if not ("=" in a and a.split("=", 1)[0].isupper())]
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], capture_output=True, text=True,
                          timeout=90, env=env, cwd=str(ROOT), stdin=subprocess.DEVNULL)


async def _query(url, stmt):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return list(await s.scalars(stmt))
    finally:
        await engine.dispose()


async def test_import_certificates_cli(sqlite_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(GOOD + BAD))
    res = await asyncio.to_thread(bot, sqlite_url, "import-certificates", str(bad))
    assert res.returncode == 1, res.stderr
    assert "Dòng 5: ngày công nhận" in res.stdout and "Chưa ghi gì" in res.stdout
    assert "created=4 updated=0 unchanged=0 invalid=7 written=no" in res.stdout
    assert await _query(sqlite_url, select(Certificate)) == []
    res = await asyncio.to_thread(bot, sqlite_url, "import-certificates", str(bad), "--skip-invalid")
    assert res.returncode == 0 and "written=yes" in res.stdout
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx_bytes(GOOD))
    res = await asyncio.to_thread(bot, sqlite_url, "import-certificates", str(good), "--dry-run")
    assert "created=0 updated=0 unchanged=3" in res.stdout and "chạy thử" in res.stdout.lower()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    res = await asyncio.to_thread(bot, sqlite_url, "import-certificates", str(empty))
    assert res.returncode == 2 and "trống" in res.stdout
    assert len(await _query(sqlite_url, select(Certificate))) == 4


async def test_claim_code_add_round_and_remind_cli(sqlite_url, tmp_path):
    f = tmp_path / "ds.csv"
    f.write_bytes(csv_bytes(GOOD))
    assert (await asyncio.to_thread(bot, sqlite_url, "import-certificates", str(f))).returncode == 0
    res = await asyncio.to_thread(bot, sqlite_url, "claim-code", "--phone", "+84 912 345 678")
    assert res.returncode == 0, res.stderr
    assert "https://t.me/ocop_test_bot?start=claim_" in res.stdout and "Mật ong U Minh" in res.stdout
    code = res.stdout.split("Mã: ")[1].split()[0]
    res = await asyncio.to_thread(bot, sqlite_url, "claim-code", "--phone", "0900000000")
    assert res.returncode == 1
    res = await asyncio.to_thread(bot, sqlite_url, "add-round", "--province", "Bạc Liêu", "--name", "Đợt 1",
                                  "--deadline", "31/2/2099")
    assert res.returncode == 1 and "không có ngày 31" in res.stderr
    res = await asyncio.to_thread(bot, sqlite_url, "add-round", "--province", "Bạc Liêu", "--name", "Đợt 1",
                                  "--deadline", "15/3/2099", "--where", "UBND xã")
    assert res.returncode == 0 and "Cà Mau" in res.stdout

    # a producer claims with the code (console identity), then the officer runs the sweep
    from core.app import Core
    from core.config import load_settings
    from tests.helpers import msg
    core = Core(load_settings(database_url=sqlite_url, telegram_token=""))
    try:
        await core.handle(msg(f"/nhanma {code}", user="farmer"))
    finally:
        await core.close()
    res = await asyncio.to_thread(bot, sqlite_url, "remind", "--today", "2027-02-01", "--dry-run")
    # 32 days before expiry the re-evaluation window (180–120 days) has closed: the one honest message
    assert res.returncode == 0 and "1 reminder(s) due (dry run" in res.stdout and ":late" in res.stdout
    assert "đã qua thời hạn nộp hồ sơ" in res.stdout
    assert await _query(sqlite_url, select(Delivery)) == []
    res = await asyncio.to_thread(bot, sqlite_url, "remind", "--today", "2027-02-01")
    assert res.returncode == 0, res.stderr
    assert "[thông báo]" in res.stdout and "Mật ong U Minh" in res.stdout and "sent=1" in res.stdout
    res = await asyncio.to_thread(bot, sqlite_url, "remind", "--today", "2027-02-01")
    assert "0 reminder(s) due" in res.stdout
    [d] = await _query(sqlite_url, select(Delivery))
    assert d.status == "sent" and d.key.endswith(":late")
    assert len(await _query(sqlite_url, select(User))) == 1
    assert (await _query(sqlite_url, select(Identity)))[0].channel == "console"
