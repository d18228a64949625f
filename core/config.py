"""Typed settings read from the environment (and an optional .env file)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent


def _load_dotenv() -> None:
    """`.env` of the checkout, or the file named by OCOP_ENV_FILE (production: /etc/ocop-bot/env,
    set by the systemd unit and the ocop-bot wrapper; docs/deploy.md). The environment wins."""
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover
        return
    load_dotenv(os.environ.get("OCOP_ENV_FILE") or ROOT / ".env", override=False)


def _ids(raw: str) -> frozenset[str]:
    """'123, zalo:abc' -> {'telegram:123', 'zalo:abc'} (bare numbers are Telegram user ids)."""
    out = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        out.add(part if ":" in part else f"telegram:{part}")
    return frozenset(out)


def _offsets(raw: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """'90, 60,30' -> (90, 60, 30); empty -> default; 'none' / 'off' -> () (that kind switched off)."""
    if raw.strip().lower() in ("none", "off"):
        return ()
    vals = sorted({int(p) for p in raw.replace(";", ",").split(",") if p.strip().isdigit()}, reverse=True)
    return tuple(vals) or default


@dataclass(frozen=True)
class Settings:
    database_url: str
    telegram_token: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    admin_ids: frozenset[str] = frozenset()
    timezone: str = "Asia/Ho_Chi_Minh"
    webhook_url: str = ""
    webhook_secret: str = ""
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    send_rate: float = 25.0
    per_chat_interval: float = 1.0
    reply_reserve: float = 5.0
    max_attempts: int = 5
    reminder_time: str = "08:00"
    # around the re-evaluation filing window of QĐ 26/2026 Điều 7.6a (180–120 days before expiry):
    # prepare, window opens, mid-window, window closes in 5 days, expiry day
    expiry_offsets: tuple[int, ...] = (210, 180, 150, 125, 0)
    round_offsets: tuple[int, ...] = (14, 7, 1)
    bot_username: str = ""
    zalo_mode: str = ""
    zalo_bot_token: str = ""
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_secret: str = ""
    zalo_webhook_url: str = ""
    zalo_oa_app_id: str = ""
    zalo_oa_app_secret: str = ""
    zalo_oa_secret_key: str = ""
    zalo_oa_access_token: str = ""
    zalo_oa_refresh_token: str = ""
    zalo_oa_api_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zns_api_url: str = "https://business.openapi.zalo.me"
    zns_template_cert_expiry: str = ""
    zns_template_round_deadline: str = ""
    zns_offsets: tuple[int, ...] = (180, 125)      # paid ZNS only at these offsets (inside the window)
    zns_hours: str = "08:00-21:00"                 # local hours ZNS may be sent (Zalo refuses 22–06)
    public_url: str = ""                 # PUBLIC_URL; read it through base_url / has_public_url
    web_console: bool = True             # serve the officers' console at /quantri/ (WEB_CONSOLE=0: off)
    # --- operations (doctor, /metrics, logs; handlers/ops, core/ops) ---
    metrics_token: str = ""              # /metrics is served only when set (Bearer or ?token=)
    log_file: str = ""                   # also write the JSON logs to this file (logrotate-friendly)

    @property
    def base_url(self) -> str:
        """Root of every link the bot sends (web console, /tep/ files): PUBLIC_URL, else the origin of
        ZALO_WEBHOOK_URL / WEBHOOK_URL, else http://127.0.0.1:<HTTP_PORT> (this machine only)."""
        return self._public_origin() or f"http://127.0.0.1:{self.http_port}"

    @property
    def has_public_url(self) -> bool:
        """Whether base_url can be opened from outside this machine (PUBLIC_URL or a webhook is set)."""
        return bool(self._public_origin())

    def _public_origin(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        from urllib.parse import urlparse
        for url in (self.zalo_webhook_url, self.webhook_url):
            u = urlparse(url or "")
            if u.scheme and u.netloc:
                return f"{u.scheme}://{u.netloc}"
        return ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def zalo_enabled(self) -> bool:
        if self.zalo_mode == "bot":
            return bool(self.zalo_bot_token)
        if self.zalo_mode == "oa":
            return bool(self.zalo_oa_app_id and self.zalo_oa_secret_key)
        return False

    @property
    def zns_enabled(self) -> bool:
        """ZNS uses the OA app credentials and tokens (whichever ZALO_MODE the chat uses)."""
        return bool(self.zalo_oa_app_id and self.zalo_oa_app_secret
                    and (self.zns_template_cert_expiry or self.zns_template_round_deadline))

    def zns_template(self, kind: str) -> str:
        return {"cert": self.zns_template_cert_expiry, "round": self.zns_template_round_deadline}.get(kind, "")

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{ROOT / 'data' / 'ocop.db'}"


def load_settings(**overrides) -> Settings:
    """Build settings from the environment; keyword overrides win (used by tests)."""
    _load_dotenv()
    env = os.environ.get
    values = dict(
        database_url=env("DATABASE_URL") or default_database_url(),
        telegram_token=env("TELEGRAM_BOT_TOKEN", ""),
        telegram_api_url=(env("TELEGRAM_API_URL") or "https://api.telegram.org").rstrip("/"),
        admin_ids=_ids(env("ADMIN_IDS", "")),
        timezone=env("TIMEZONE") or "Asia/Ho_Chi_Minh",
        webhook_url=env("WEBHOOK_URL", ""),
        webhook_secret=env("WEBHOOK_SECRET", ""),
        http_host=env("HTTP_HOST") or "0.0.0.0",
        http_port=int(env("HTTP_PORT") or 8080),
        send_rate=float(env("SEND_RATE") or 25),
        per_chat_interval=float(env("PER_CHAT_INTERVAL") or 1.0),
        reply_reserve=float(env("REPLY_RESERVE") or 5),
        max_attempts=int(env("SEND_MAX_ATTEMPTS") or 5),
        reminder_time=env("REMINDER_TIME") or "08:00",
        expiry_offsets=_offsets(env("REMINDER_OFFSETS", ""), (210, 180, 150, 125, 0)),
        round_offsets=_offsets(env("ROUND_REMINDER_OFFSETS", ""), (14, 7, 1)),
        bot_username=env("BOT_USERNAME", ""),
        zalo_mode=(env("ZALO_MODE") or "").lower(),
        zalo_bot_token=env("ZALO_BOT_TOKEN", ""),
        zalo_api_url=(env("ZALO_API_URL") or "https://bot-api.zaloplatforms.com").rstrip("/"),
        zalo_webhook_secret=env("ZALO_WEBHOOK_SECRET", ""),
        zalo_webhook_url=env("ZALO_WEBHOOK_URL", ""),
        zalo_oa_app_id=env("ZALO_OA_APP_ID", ""),
        zalo_oa_app_secret=env("ZALO_OA_APP_SECRET", ""),
        zalo_oa_secret_key=env("ZALO_OA_SECRET_KEY", ""),
        zalo_oa_access_token=env("ZALO_OA_ACCESS_TOKEN", ""),
        zalo_oa_refresh_token=env("ZALO_OA_REFRESH_TOKEN", ""),
        zalo_oa_api_url=(env("ZALO_OA_API_URL") or "https://openapi.zalo.me").rstrip("/"),
        zalo_oauth_url=(env("ZALO_OAUTH_URL") or "https://oauth.zaloapp.com").rstrip("/"),
        zns_api_url=(env("ZALO_ZNS_API_URL") or "https://business.openapi.zalo.me").rstrip("/"),
        zns_template_cert_expiry=env("ZNS_TEMPLATE_CERT_EXPIRY", "").strip(),
        zns_template_round_deadline=env("ZNS_TEMPLATE_ROUND_DEADLINE", "").strip(),
        zns_offsets=_offsets(env("ZNS_OFFSETS", ""), (180, 125)),
        zns_hours=env("ZNS_HOURS") or "08:00-21:00",
        public_url=(env("PUBLIC_URL") or "").rstrip("/"),
        web_console=(env("WEB_CONSOLE") or "1").strip().lower() not in ("0", "false", "no", "off"),
        metrics_token=(env("METRICS_TOKEN") or "").strip(),
        log_file=(env("LOG_FILE") or "").strip(),
    )
    values.update(overrides)
    return Settings(**values)
