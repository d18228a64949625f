"""`python bot.py doctor`: checks the whole configuration, one line per check.

    ✔ <what>: <detail>                      fine
    ✘ <what>: <problem> → <what to do>      needs a person; the exit code is 1
    — <what>: chưa cấu hình                 not configured (not an error)

Every check is a small async function returning a Check; they share a context dict (the database
session factory, the Date header Telegram answered with) and never raise.
"""
from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from core import clock
from core.config import ROOT
from handlers.ops import probes
from handlers.ops.probes import ProbeError

OK, FAIL, SKIP = "ok", "fail", "skip"
SYMBOL = {OK: "✔", FAIL: "✘", SKIP: "—"}
MIN_FREE_BYTES = 1024 ** 3                 # 1 GiB free for the database, logs and backups
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
REFRESH_WARN = timedelta(days=14)
CLOCK_SKEW = 120                           # seconds
WEBHOOK_ERROR_RECENT = timedelta(hours=24)


@dataclass
class Check:
    name: str
    status: str
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        out = f"{SYMBOL[self.status]} {self.name}: {self.detail}"
        return f"{out} → {self.fix}" if self.fix and self.status == FAIL else out


def ok(name, detail=""):
    return Check(name, OK, detail)


def fail(name, detail, fix=""):
    return Check(name, FAIL, detail, fix)


def skip(name, detail="chưa cấu hình"):
    return Check(name, SKIP, detail)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy import make_url
    if not url.startswith("sqlite"):
        return None
    db = make_url(url).database
    return Path(db) if db and db != ":memory:" else None


# --- database -------------------------------------------------------------------------------
async def check_database(settings, ctx) -> list[Check]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from storage.db import make_engine, make_sessionmaker
    from storage.migrate import alembic_config
    url = settings.database_url
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return [fail("Cơ sở dữ liệu", f"chưa có tệp {path}", "chạy: python bot.py migrate")]
    engine = make_engine(url, poolclass=NullPool)

    async def probe():
        async with engine.connect() as conn:
            version = (await conn.execute(text(
                "select sqlite_version()" if path is not None else "show server_version"))).scalar()
            current = await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))
            return version, current
    try:
        version, current = await asyncio.wait_for(probe(), 15)
    except Exception as exc:
        await engine.dispose()
        return [fail("Cơ sở dữ liệu", f"không kết nối được ({type(exc).__name__}: {str(exc)[:120]})",
                     "kiểm tra DATABASE_URL và máy chủ PostgreSQL (systemctl status postgresql)")]
    ctx["engine"], ctx["sessionmaker"] = engine, make_sessionmaker(engine)
    kind = f"SQLite {version} ({path})" if path is not None else f"PostgreSQL {version}"
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    out = [ok("Cơ sở dữ liệu", kind)]
    if current == heads:
        out.append(ok("Migrations", f"mới nhất ({', '.join(sorted(heads))})"))
    else:
        missing = ", ".join(sorted(heads - current)) or "?"
        out.append(fail("Migrations", f"chưa cập nhật (đang ở {', '.join(sorted(current)) or 'trống'}, "
                                      f"thiếu {missing})", "chạy: python bot.py migrate"))
    return out


# --- Telegram -------------------------------------------------------------------------------
async def check_telegram(settings, ctx) -> list[Check]:
    if not settings.telegram_enabled:
        return [skip("Telegram", "chưa cấu hình (TELEGRAM_BOT_TOKEN trống)")]
    http = ctx["http"]
    try:
        me = await probes.telegram(http, settings, "getMe")
    except ProbeError as exc:
        return [fail("Telegram", f"không gọi được {settings.telegram_api_url} ({exc})",
                     "kiểm tra mạng/DNS/tường lửa ra ngoài và TELEGRAM_API_URL")]
    ctx["reference_date"] = me.date
    if me.status != 200 or not me.data.get("ok"):
        return [fail("Telegram", f"token bị từ chối ({me.status} {me.data.get('description', '')})".strip(),
                     "lấy lại token ở @BotFather và sửa TELEGRAM_BOT_TOKEN")]
    bot = me.data.get("result") or {}
    out = [ok("Telegram", f"token hợp lệ, bot @{bot.get('username', '?')}")]
    try:
        info = await probes.telegram(http, settings, "getWebhookInfo")
    except ProbeError as exc:
        return out + [fail("Webhook Telegram", f"không đọc được getWebhookInfo ({exc})")]
    hook = info.data.get("result") or {}
    url, pending = hook.get("url") or "", hook.get("pending_update_count") or 0
    if not settings.webhook_mode:
        note = f" (đang đặt {url}: bot sẽ xoá khi chạy)" if url else ""
        return out + [ok("Webhook Telegram", f"không dùng, long polling{note}")]
    if url != settings.webhook_url:
        return out + [fail("Webhook Telegram", f"đang trỏ tới {url or '(chưa đặt)'}, khác WEBHOOK_URL "
                                               f"{settings.webhook_url}",
                           "khởi động lại bot (systemctl restart ocop-bot): bot tự đặt webhook khi chạy")]
    err, when = hook.get("last_error_message"), hook.get("last_error_date")
    if err and when and clock.now() - datetime.fromtimestamp(int(when), timezone.utc) < WEBHOOK_ERROR_RECENT:
        at = datetime.fromtimestamp(int(when), timezone.utc).astimezone(settings.tz).strftime("%d/%m %H:%M")
        return out + [fail("Webhook Telegram", f"Telegram báo lỗi lúc {at}: \"{err}\" ({pending} cập nhật chờ)",
                           "kiểm tra nginx, chứng chỉ HTTPS, WEBHOOK_URL và /healthz từ Internet")]
    return out + [ok("Webhook Telegram", f"{url}, {pending} cập nhật chờ")]


# --- Zalo -----------------------------------------------------------------------------------
async def check_zalo(settings, ctx) -> list[Check]:
    mode = settings.zalo_mode
    if not mode:
        return [skip("Zalo")]
    if mode == "bot":
        return [await _zalo_bot(settings, ctx)]
    if mode == "oa":
        return [await _zalo_oa(settings, ctx)]
    return [fail("Zalo", f"ZALO_MODE={mode!r} không hợp lệ", "đặt ZALO_MODE=bot hoặc ZALO_MODE=oa")]


async def _zalo_bot(settings, ctx) -> Check:
    name = "Zalo Bot"
    if not settings.zalo_bot_token:
        return fail(name, "ZALO_BOT_TOKEN trống", "dán token của Zalo Bot vào ZALO_BOT_TOKEN")
    try:
        me = await probes.zalo_bot(ctx["http"], settings, "getMe")
    except ProbeError as exc:
        return fail(name, f"không gọi được {settings.zalo_api_url} ({exc})", "kiểm tra mạng và ZALO_API_URL")
    if not me.data.get("ok"):
        return fail(name, f"token bị từ chối ({me.data.get('error_code', me.status)} "
                          f"{me.data.get('description', '')})".strip(),
                    "lấy lại token trong Zalo Bot Manager và sửa ZALO_BOT_TOKEN")
    return ok(name, f"token hợp lệ, {(me.data.get('result') or {}).get('account_name', '?')}")


async def oa_access_token(settings, ctx) -> tuple[str, str]:
    """(access token, '') or ('', problem) — refreshing through channels.zalo_tokens when due."""
    from channels.zalo_tokens import OATokens, TokenError
    if ctx.get("sessionmaker") is None:
        return "", "cần cơ sở dữ liệu (token OA lưu trong bảng oauth_tokens)"
    tokens = OATokens(ctx["sessionmaker"], settings)
    try:
        return await tokens.access_token(), ""
    except TokenError as exc:
        return "", str(exc)[:200]


async def _zalo_oa(settings, ctx) -> Check:
    from channels.zalo_tokens import NAME
    from storage.models import OAuthToken
    name = "Zalo OA"
    if not (settings.zalo_oa_app_id and settings.zalo_oa_app_secret and settings.zalo_oa_secret_key):
        return fail(name, "thiếu ZALO_OA_APP_ID / ZALO_OA_APP_SECRET / ZALO_OA_SECRET_KEY", "xem docs/zalo.md")
    token, problem = await oa_access_token(settings, ctx)
    if not token:
        return fail(name, f"không có access token dùng được: {problem}",
                    "quản trị viên OA cấp quyền lại: python bot.py zalo-oa-auth … rồi zalo-oa-token --code …")
    try:
        profile = await probes.zalo_oa_profile(ctx["http"], settings, token)
    except ProbeError as exc:
        return fail(name, f"không gọi được {settings.zalo_oa_api_url} ({exc})", "kiểm tra mạng và ZALO_OA_API_URL")
    if int(profile.data.get("error", -1)) != 0:
        return fail(name, f"access token bị từ chối ({profile.data.get('error')} {profile.data.get('message', '')})",
                    "quản trị viên OA cấp quyền lại (docs/zalo.md)")
    async with ctx["sessionmaker"]() as s:
        row = await s.get(OAuthToken, NAME)
    now = clock.now()
    access_left = (_aware(row.access_expires_at) - now).total_seconds() / 3600
    refresh_left = _aware(row.updated_at) + REFRESH_TOKEN_LIFETIME - now
    oa = (profile.data.get("data") or {}).get("name", "?")
    if refresh_left < REFRESH_WARN:
        return fail(name, f"refresh token chỉ còn khoảng {max(0, refresh_left.days)} ngày "
                          f"(làm mới lần cuối {_aware(row.updated_at).astimezone(settings.tz):%d/%m/%Y})",
                    "để bot chạy liên tục (bot tự làm mới mỗi ngày) hoặc cấp quyền lại OA (docs/zalo.md)")
    return ok(name, f"{oa}: access token còn {access_left:.0f} giờ, refresh token còn khoảng {refresh_left.days} ngày")


# --- ZNS ------------------------------------------------------------------------------------
def zns_templates(settings) -> list[tuple[str, str]]:
    return [(k, t) for k, t in (("cert", getattr(settings, "zns_template_cert_expiry", "")),
                                ("round", getattr(settings, "zns_template_round_deadline", ""))) if t]


async def zns_check(settings, ctx) -> list[dict]:
    """[{kind, template_id, usable, detail}] — the reach feature's check when present, else
    GET /template/info/v2 per configured template with the OA access token."""
    try:
        from channels.zns import check_templates           # the reach feature (bot.py zns-check)
    except ImportError:
        check_templates = None
    if check_templates is not None and ctx.get("sessionmaker") is not None:
        return [r for r in await check_templates(settings, ctx["sessionmaker"]) if r.get("template_id")]
    token, problem = await oa_access_token(settings, ctx)
    out = []
    for kind, tid in zns_templates(settings):
        if not token:
            out.append({"kind": kind, "template_id": tid, "usable": False, "detail": f"không có token OA: {problem}"})
            continue
        try:
            info = await probes.zns_template_info(ctx["http"], settings, token, tid)
        except ProbeError as exc:
            out.append({"kind": kind, "template_id": tid, "usable": False, "detail": str(exc)})
            continue
        data = info.data.get("data") or {}
        status = str(data.get("status") or "")
        usable = int(info.data.get("error", -1)) == 0 and status == "ENABLE"
        out.append({"kind": kind, "template_id": tid, "usable": usable, "status": status,
                    "detail": "" if usable else f"{info.data.get('error')} {status or info.data.get('message', '')}"})
    return out


async def check_zns(settings, ctx) -> list[Check]:
    if not zns_templates(settings):
        return [skip("ZNS")]
    results = await zns_check(settings, ctx)
    bad = [r for r in results if not r["usable"]]
    if bad:
        return [fail("ZNS", "; ".join(f"mẫu {r['template_id']} ({r['kind']}) không dùng được: {r['detail']}"
                                      for r in bad),
                     "kiểm tra mẫu trên tài khoản ZCA (trạng thái ENABLE) và số dư, rồi chạy lại doctor")]
    return [ok("ZNS", ", ".join(f"mẫu {r['template_id']} ({r['kind']}) ENABLE" for r in results))]


# --- machine --------------------------------------------------------------------------------
async def check_font(settings, ctx) -> list[Check]:
    from flows import pdf
    try:
        regular, bold = pdf.find_fonts()
    except Exception as exc:
        return [fail("Phông chữ PDF", str(exc)[:200],
                     "apt-get install fonts-dejavu-core (hoặc đặt OCOP_PDF_FONT_DIR tới thư mục có DejaVuSans.ttf)")]
    return [ok("Phông chữ PDF", f"{regular}")]


async def check_public_url(settings, ctx) -> list[Check]:
    base = settings.base_url
    name = "PUBLIC_URL" if settings.public_url else "HTTP (PUBLIC_URL chưa đặt)"
    try:
        answer = await probes.healthz(ctx["http"], base)
    except ProbeError as exc:
        return [fail(name, f"{base}/healthz không trả lời ({exc})",
                     "bot có đang chạy không (systemctl status ocop-bot)? kiểm tra nginx, DNS và PUBLIC_URL")]
    if answer.status != 200 or not answer.data.get("ok"):
        return [fail(name, f"{base}/healthz trả về {answer.status} {answer.data.get('error', '')}".strip(),
                     "xem nhật ký của bot (journalctl -u ocop-bot) và kết nối cơ sở dữ liệu")]
    return [ok(name, f"{base}/healthz trả lời 200")]


def _human(n: float) -> str:
    return f"{n / 1024 ** 3:.1f} GB".replace(".", ",")


async def check_disk(settings, ctx, min_free: int = MIN_FREE_BYTES) -> list[Check]:
    places: dict[str, Path] = {}
    db = _sqlite_path(settings.database_url)
    if db is not None:
        places["cơ sở dữ liệu"] = db.parent
    if settings.log_file:
        places["nhật ký"] = Path(settings.log_file).parent
    places.setdefault("thư mục bot", ROOT)
    low, seen = [], []
    for what, where in places.items():
        probe = where
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        usage = shutil.disk_usage(probe)
        seen.append(f"{what} {where} còn {_human(usage.free)}")
        if usage.free < min_free:
            low.append(f"{what} {where} chỉ còn {_human(usage.free)} (cần ≥ {_human(min_free)})")
    if low:
        return [fail("Dung lượng đĩa", "; ".join(low),
                     "xoá bản sao lưu/nhật ký cũ (logrotate), hoặc mở rộng ổ đĩa")]
    return [ok("Dung lượng đĩa", "; ".join(seen))]


async def check_clock(settings, ctx) -> list[Check]:
    try:
        tz = ZoneInfo(settings.timezone)
    except Exception:
        return [fail("Đồng hồ", f"TIMEZONE={settings.timezone!r} không hợp lệ",
                     "đặt TIMEZONE=Asia/Ho_Chi_Minh (cần gói tzdata)")]
    now = clock.now()
    local = now.astimezone(tz)
    detail = f"{local:%d/%m/%Y %H:%M} {settings.timezone} (UTC{local:%z})"
    if not 2025 <= now.year < 2100:
        return [fail("Đồng hồ", f"ngày giờ máy sai: {detail}", "bật đồng bộ giờ: timedatectl set-ntp true")]
    ref = ctx.get("reference_date")
    if ref:
        try:
            skew = (now - parsedate_to_datetime(ref)).total_seconds()
        except (TypeError, ValueError):
            skew = None
        if skew is not None and abs(skew) > CLOCK_SKEW:
            return [fail("Đồng hồ", f"{detail}, lệch {skew:+.0f} giây so với máy chủ Telegram",
                         "bật đồng bộ giờ: timedatectl set-ntp true (systemd-timesyncd hoặc chrony)")]
        if skew is not None:
            detail += f", lệch {abs(skew):.0f} giây so với Telegram"
    return [ok("Đồng hồ", detail)]


async def check_incidents(settings, ctx) -> list[Check]:
    if ctx.get("sessionmaker") is None:
        return []
    from core.ops.alerts import open_incidents
    try:
        async with ctx["sessionmaker"]() as s:
            rows = await open_incidents(s)
    except Exception:            # migrations not applied yet: reported above
        return []
    if not rows:
        return [ok("Sự cố", "không có sự cố đang mở")]
    return [fail("Sự cố", f"{len(rows)} sự cố đang mở: " + "; ".join(f"{r.kind}/{r.key}" for r in rows[:5]),
                 "khắc phục theo tin cảnh báo đã gửi admin; sự cố tự đóng khi hết lỗi")]


CHECKS = [check_database, check_telegram, check_zalo, check_zns, check_font, check_public_url, check_disk,
          check_clock, check_incidents]


async def run_checks(settings, checks=None) -> list[Check]:
    ctx: dict = {}
    out: list[Check] = []
    async with aiohttp.ClientSession() as http:
        ctx["http"] = http
        try:
            for check in checks or CHECKS:
                try:
                    out += await check(settings, ctx)
                except Exception as exc:          # a bug in a check must not hide the others
                    out.append(fail(check.__name__.removeprefix("check_"), f"lỗi khi kiểm tra: {exc!r}"[:200]))
        finally:
            if ctx.get("engine") is not None:
                await ctx["engine"].dispose()
    return out


async def doctor(settings, out=print) -> int:
    results = await run_checks(settings)
    for c in results:
        out(c.line())
    bad = sum(c.status == FAIL for c in results)
    out(f"{'Có ' + str(bad) + ' mục cần xử lý.' if bad else 'Mọi thứ ổn.'}")
    return 1 if bad else 0
