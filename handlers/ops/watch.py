"""The periodic ops check: queue age and the Telegram webhook (see handlers/ops/__init__.py)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import aiohttp

from core import clock
from core.ops import alerts
from core.ops.metrics import queue_figures
from core.templates import Markup, render
from handlers.ops import probes

log = logging.getLogger("ocop.ops.watch")
WATCH_INTERVAL = 60
QUEUE_MAX_AGE = timedelta(minutes=30)
WEBHOOK_ERROR_FRESH = timedelta(hours=1)     # an error older than this (and none since) is over


async def check_queue(core) -> bool:
    """Incident queue_stale:deliveries while the oldest due row waited longer than QUEUE_MAX_AGE."""
    async with core.sessionmaker() as s:
        q = await queue_figures(s)
    if q["oldest_age"] > QUEUE_MAX_AGE.total_seconds():
        await alerts.alert(core.sessionmaker, core.settings, "queue_stale", "deliveries",
                           Markup(render("ops/queue_stale", count=q["due"], minutes=int(q["oldest_age"] // 60))))
        return True
    await alerts.resolve(core.sessionmaker, "queue_stale", "deliveries")
    return False


async def check_webhook(core, http: aiohttp.ClientSession | None = None) -> bool:
    """Incident webhook_error:telegram while getWebhookInfo reports a recent last_error_message."""
    settings = core.settings
    if not (settings.telegram_enabled and settings.webhook_mode):
        return False
    own = http is None
    http = http or aiohttp.ClientSession()
    try:
        info = await probes.telegram(http, settings, "getWebhookInfo")
    except probes.ProbeError as exc:
        log.warning("getWebhookInfo failed: %s", exc)
        return False
    finally:
        if own:
            await http.close()
    hook = info.data.get("result") or {}
    message, when = hook.get("last_error_message"), hook.get("last_error_date")
    if message and when and clock.now() - datetime.fromtimestamp(int(when), timezone.utc) < WEBHOOK_ERROR_FRESH:
        await alerts.alert(core.sessionmaker, settings, "webhook_error", "telegram",
                           Markup(render("ops/webhook_error", url=hook.get("url") or settings.webhook_url,
                                         message=message, pending=hook.get("pending_update_count") or 0)))
        return True
    await alerts.resolve(core.sessionmaker, "webhook_error", "telegram")
    return False


async def watch(core) -> None:
    await check_queue(core)
    await check_webhook(core)
