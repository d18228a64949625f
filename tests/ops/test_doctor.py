"""`bot.py doctor`: every check passes and fails for real (fake servers, real databases)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path


from core import clock
from handlers.ops import doctor
from handlers.ops.doctor import FAIL, OK, SKIP
from tests.ops.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def statuses(checks) -> list[str]:
    return [c.status for c in checks]


# --- database and migrations ---------------------------------------------------------------
async def test_database_reachable_and_migrations_current(db_url, make_settings, run_check):
    checks = await run_check(doctor.check_database, make_settings(db_url))
    assert statuses(checks) == [OK, OK]
    assert "0010_console_subgroup" in checks[1].detail


async def test_database_unreachable(make_settings, run_check):
    checks = await run_check(doctor.check_database, make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/nothing"))
    assert statuses(checks) == [FAIL] and "DATABASE_URL" in checks[0].fix


async def test_sqlite_file_missing(tmp_path, make_settings, run_check):
    checks = await run_check(doctor.check_database, make_settings(f"sqlite+aiosqlite:///{tmp_path}/none.db"))
    assert statuses(checks) == [FAIL] and "migrate" in checks[0].fix
    assert not (tmp_path / "none.db").exists()          # the doctor creates nothing


async def test_migrations_behind(db_url, make_settings, run_check):
    from storage.migrate import alembic_config
    from alembic import command
    import asyncio
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0004_reach")
    checks = await run_check(doctor.check_database, make_settings(db_url))
    assert statuses(checks) == [OK, FAIL]
    assert "0010_console_subgroup" in checks[1].detail and "bot.py migrate" in checks[1].fix


# --- Telegram --------------------------------------------------------------------------------
async def test_telegram_token_and_polling(tg, sqlite_url, make_settings, run_check):
    checks = await run_check(doctor.check_telegram, make_settings(sqlite_url, telegram_token=tg.token,
                                                                  telegram_api_url=tg.url))
    assert statuses(checks) == [OK, OK]
    assert "@ocop_test_bot" in checks[0].detail and "polling" in checks[1].detail


async def test_telegram_token_refused(tg, sqlite_url, make_settings, run_check):
    checks = await run_check(doctor.check_telegram, make_settings(sqlite_url, telegram_token="999:wrong",
                                                                  telegram_api_url=tg.url))
    assert statuses(checks) == [FAIL] and "BotFather" in checks[0].fix


async def test_telegram_unreachable(sqlite_url, make_settings, run_check):
    checks = await run_check(doctor.check_telegram, make_settings(
        sqlite_url, telegram_token="1:x", telegram_api_url=f"http://127.0.0.1:{free_port()}"))
    assert statuses(checks) == [FAIL]


async def test_telegram_not_configured(sqlite_url, make_settings, run_check):
    assert statuses(await run_check(doctor.check_telegram, make_settings(sqlite_url))) == [SKIP]


async def test_webhook_matches(tg, sqlite_url, make_settings, run_check):
    url = "https://bot.example.vn/telegram"
    tg.webhook = {"url": url, "secret_token": "s"}
    settings = make_settings(sqlite_url, telegram_token=tg.token, telegram_api_url=tg.url, webhook_url=url)
    checks = await run_check(doctor.check_telegram, settings)
    assert statuses(checks) == [OK, OK] and url in checks[1].detail


async def test_webhook_points_elsewhere(tg, sqlite_url, make_settings, run_check):
    tg.webhook = {"url": "https://old.example.vn/telegram", "secret_token": "s"}
    settings = make_settings(sqlite_url, telegram_token=tg.token, telegram_api_url=tg.url,
                             webhook_url="https://bot.example.vn/telegram")
    checks = await run_check(doctor.check_telegram, settings)
    assert statuses(checks) == [OK, FAIL] and "old.example.vn" in checks[1].detail


async def test_webhook_last_error_message(tg, sqlite_url, make_settings, run_check):
    url = "https://bot.example.vn/telegram"
    tg.webhook = {"url": url, "secret_token": "s"}
    tg.set_webhook_error("Wrong response from the webhook: 502 Bad Gateway")
    settings = make_settings(sqlite_url, telegram_token=tg.token, telegram_api_url=tg.url, webhook_url=url)
    checks = await run_check(doctor.check_telegram, settings)
    assert statuses(checks) == [OK, FAIL] and "502 Bad Gateway" in checks[1].detail
    tg.set_webhook_error("Wrong response from the webhook: 502 Bad Gateway",
                         when=(clock.now() - timedelta(days=3)).timestamp())     # long over
    assert statuses(await run_check(doctor.check_telegram, settings)) == [OK, OK]


# --- Zalo ------------------------------------------------------------------------------------
async def test_zalo_bot_token(zbot, sqlite_url, make_settings, run_check):
    ok = make_settings(sqlite_url, zalo_mode="bot", zalo_bot_token=zbot.token, zalo_api_url=zbot.url)
    assert statuses(await run_check(doctor.check_zalo, ok)) == [OK]
    bad = make_settings(sqlite_url, zalo_mode="bot", zalo_bot_token="9:nope", zalo_api_url=zbot.url)
    [check] = await run_check(doctor.check_zalo, bad)
    assert check.status == FAIL and "ZALO_BOT_TOKEN" in check.fix


def oa_settings(make_settings, url, zoa, access="", refresh="", **kw):
    return make_settings(url, zalo_mode="oa", zalo_oa_app_id=zoa.app_id, zalo_oa_app_secret=zoa.app_secret,
                         zalo_oa_secret_key=zoa.secret_key, zalo_oa_access_token=access,
                         zalo_oa_refresh_token=refresh, zalo_oa_api_url=zoa.url, zalo_oauth_url=zoa.url, **kw)


async def test_zalo_oa_token_valid(zoa, db_url, make_settings, run_check):
    access, refresh = zoa.issue_pair()
    [check] = await run_check(doctor.check_zalo, oa_settings(make_settings, db_url, zoa, access, refresh), needs_db=True)
    assert check.status == OK and "refresh token còn khoảng" in check.detail


async def test_zalo_oa_refresh_refused(zoa, db_url, make_settings, run_check):
    """Expired access token and a refresh token Zalo no longer accepts: re-authorise."""
    from channels.zalo_tokens import NAME
    from storage.db import make_engine, make_sessionmaker
    from storage.models import OAuthToken
    access, _ = zoa.issue_pair()
    zoa.expire_access(access)
    settings = oa_settings(make_settings, db_url, zoa, access, "rt-used-already")
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as s, s.begin():
        s.add(OAuthToken(name=NAME, access_token=access, refresh_token="rt-used-already",
                         access_expires_at=clock.now() - timedelta(hours=1)))
    await engine.dispose()
    [check] = await run_check(doctor.check_zalo, settings, needs_db=True)
    assert check.status == FAIL and "zalo-oa-auth" in check.fix


async def test_zalo_oa_refresh_token_close_to_expiry(zoa, db_url, make_settings, run_check):
    from channels.zalo_tokens import NAME
    from storage.db import make_engine, make_sessionmaker
    from storage.models import OAuthToken
    access, refresh = zoa.issue_pair()
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as s, s.begin():
        s.add(OAuthToken(name=NAME, access_token=access, refresh_token=refresh,
                         access_expires_at=clock.now() + timedelta(hours=20),
                         updated_at=clock.now() - timedelta(days=80)))
    await engine.dispose()
    [check] = await run_check(doctor.check_zalo, oa_settings(make_settings, db_url, zoa), needs_db=True)
    assert check.status == FAIL and "refresh token" in check.detail


async def test_zalo_not_configured_and_bad_mode(sqlite_url, make_settings, run_check):
    assert statuses(await run_check(doctor.check_zalo, make_settings(sqlite_url, zalo_mode=""))) == [SKIP]
    assert statuses(await run_check(doctor.check_zalo, make_settings(sqlite_url, zalo_mode="zalo"))) == [FAIL]


# --- ZNS -------------------------------------------------------------------------------------
async def test_zns_not_configured(sqlite_url, make_settings, run_check):
    [check] = await run_check(doctor.check_zns, make_settings(sqlite_url))
    assert check.status == SKIP and check.line() == "— ZNS: chưa cấu hình"


async def test_zns_templates(zns, zoa, sqlite_url, make_settings, run_check):
    access, refresh = zoa.issue_pair()
    zns.templates = {"401": "ENABLE", "402": "ENABLE"}
    settings = oa_settings(make_settings, sqlite_url, zoa, access, refresh, zns_api_url=zns.url,
                           zns_template_cert_expiry="401", zns_template_round_deadline="402")
    [check] = await run_check(doctor.check_zns, settings, needs_db=True)
    assert check.status == OK and "401" in check.detail
    zns.templates["402"] = "REJECT"
    [check] = await run_check(doctor.check_zns, settings, needs_db=True)
    assert check.status == FAIL and "402" in check.detail and "401" not in check.detail


# --- machine ---------------------------------------------------------------------------------
async def test_pdf_font(sqlite_url, make_settings, run_check, monkeypatch, tmp_path):
    settings = make_settings(sqlite_url)
    assert statuses(await run_check(doctor.check_font, settings)) == [OK]
    from flows import pdf
    monkeypatch.setattr(pdf, "FONT_DIRS", ())
    monkeypatch.setenv(pdf.FONT_ENV, str(tmp_path))
    [check] = await run_check(doctor.check_font, settings)
    assert check.status == FAIL and "fonts-dejavu-core" in check.fix


async def test_public_url_reaches_healthz(sqlite_url, make_settings, run_check):
    from core.runtime import Runtime
    port = free_port()
    settings = make_settings(sqlite_url, http_host="127.0.0.1", http_port=port)
    assert statuses(await run_check(doctor.check_public_url, settings)) == [FAIL]     # nothing listens yet
    rt = Runtime(settings)
    await rt.start(with_worker=False, with_scheduler=False, with_http=True)
    try:
        [check] = await run_check(doctor.check_public_url, settings)
        assert check.status == OK and f"127.0.0.1:{port}/healthz" in check.detail
        public = make_settings(sqlite_url, public_url=f"http://localhost:{port}/")
        [check] = await run_check(doctor.check_public_url, public)
        assert check.status == OK and check.name == "PUBLIC_URL"
    finally:
        await rt.stop()


async def test_disk_space(tmp_path, make_settings, run_check):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/x.db", log_file=str(tmp_path / "log" / "bot.log"))
    [check] = await run_check(doctor.check_disk, settings, min_free=1)
    assert check.status == OK and "nhật ký" in check.detail
    [check] = await run_check(doctor.check_disk, settings, min_free=1 << 60)
    assert check.status == FAIL and "cơ sở dữ liệu" in check.detail


async def test_clock_and_time_zone(tg, sqlite_url, make_settings, run_check):
    settings = make_settings(sqlite_url, telegram_token=tg.token, telegram_api_url=tg.url)

    async def both(s):
        from handlers.ops.doctor import check_clock, check_telegram

        async def run(_settings, ctx):
            await check_telegram(s, ctx)
            return await check_clock(s, ctx)
        return await run_check(run, s)
    [check] = await both(settings)
    assert check.status == OK and "Asia/Ho_Chi_Minh" in check.detail and "Telegram" in check.detail
    tg.clock_offset = 600                       # Telegram's clock is 10 minutes ahead of ours
    [check] = await both(settings)
    assert check.status == FAIL and "timedatectl" in check.fix
    tg.clock_offset = 0
    [check] = await both(make_settings(sqlite_url, timezone="Asia/Hanoi_Typo"))
    assert check.status == FAIL and "TIMEZONE" in check.detail


# --- the command -----------------------------------------------------------------------------
async def test_doctor_all_green_then_exit_code(tg, sqlite_url, make_settings):
    from core.runtime import Runtime
    port = free_port()
    settings = make_settings(sqlite_url, telegram_token=tg.token, telegram_api_url=tg.url,
                             http_host="127.0.0.1", http_port=port)
    rt = Runtime(settings)
    await rt.start(with_worker=False, with_scheduler=False, with_http=True)
    try:
        lines: list[str] = []
        assert await doctor.doctor(settings, out=lines.append) == 0, "\n".join(lines)
        assert lines[-1] == "Mọi thứ ổn." and all(line[0] in "✔—" for line in lines[:-1])
    finally:
        await rt.stop()
    lines = []
    assert await doctor.doctor(settings, out=lines.append) == 1           # the bot is stopped now
    assert any(line.startswith("✘ HTTP") for line in lines)


def test_doctor_command_exits_nonzero_with_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/missing.db", "TELEGRAM_BOT_TOKEN": "",
                "ZALO_MODE": "", "HTTP_PORT": str(free_port())})
    res = subprocess.run([sys.executable, "bot.py", "doctor"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "✘ Cơ sở dữ liệu" in res.stdout and "python bot.py migrate" in res.stdout
    assert "— Telegram" in res.stdout and "— ZNS: chưa cấu hình" in res.stdout
