"""Senders for processes that send but do not receive (`bot.py broadcast`, `bot.py remind`).

Telegram: an initialised PTB bot without an updater (the running bot keeps getUpdates to itself).
Zalo: the same adapter and rules as `bot.py run`, without webhook or polling.
Console: always present, for identities created in the terminal chat.
"""
from __future__ import annotations

import sys
from typing import Awaitable, Callable

from delivery.senders import Senders


async def _telegram(settings):
    from telegram.constants import ParseMode
    from telegram.ext import Defaults, ExtBot
    from channels.telegram_http import AiohttpRequest
    from channels.telegram_sender import TelegramSender
    api = settings.telegram_api_url.rstrip("/")
    bot = ExtBot(settings.telegram_token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot",
                 defaults=Defaults(parse_mode=ParseMode.HTML),
                 request=AiohttpRequest(connection_pool_size=64, read_timeout=15, write_timeout=15))
    await bot.initialize()
    return TelegramSender(lambda: bot), bot.shutdown


async def open_senders(settings, sessionmaker, out=None) -> tuple[Senders, list[Callable[[], Awaitable]]]:
    """Every configured channel's sender; returns (senders, closers)."""
    senders, closers = Senders(), []
    if settings.telegram_enabled:
        senders["telegram"], close = await _telegram(settings)
        closers.append(close)
    if settings.zalo_enabled:
        from channels import zalo_standalone_sender as standalone_sender
        senders["zalo"], close = standalone_sender(settings, sessionmaker)
        closers.append(close)
    from channels.console import ConsoleSender
    senders["console"] = ConsoleSender(out or sys.stderr)
    return senders, closers


async def close_senders(closers) -> None:
    for close in closers:
        try:
            await close()
        except Exception as exc:  # closing must not hide the command's outcome
            print(f"warning: closing a sender: {exc}", file=sys.stderr)
