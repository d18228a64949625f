"""Operations: `bot.py doctor`, backups, and the watch job that turns trouble into admin alerts.

The job (every WATCH_INTERVAL s, APScheduler via core/scheduler) opens or resolves incidents
(core/ops/alerts.py): a delivery queue whose oldest due row waited over 30 minutes, and Telegram's
getWebhookInfo reporting a recent last_error_message. Failed jobs (e.g. the reminder sweep) and Zalo
tokens that cannot be refreshed are reported where they happen (core/scheduler, zalo_tokens).
"""
from __future__ import annotations

from handlers.ops.watch import WATCH_INTERVAL, watch


def register(router) -> None:
    router.job("ops_watch", watch, interval=WATCH_INTERVAL)
