"""Senders for processes that send but do not receive (`bot.py broadcast`, `bot.py remind`).

Telegram: an initialised PTB bot without an updater (the running bot keeps getUpdates to itself).
Zalo: the same adapter and rules as `bot.py run`, without webhook or polling.
Console: always present, for identities created in the terminal chat.
"""
from __future__ import annotations

import sys
from typing import Awaitable, Callable

from delivery.senders import Senders


class ChannelUnavailable(Exception):
    """A configured channel cannot be reached at start-up (the message is one line for the terminal)."""


async def _telegram(settings, engine):
    from telegram.constants import ParseMode
    from telegram.error import InvalidToken, TelegramError
    from telegram.ext import Defaults, ExtBot
    from channels.telegram_http import AiohttpRequest
    from channels.telegram_limiter import TelegramLimiter
    from channels.telegram_sender import TelegramSender
    from delivery.budget import budget_key, make_budget
    api = settings.telegram_api_url.rstrip("/")
    limiter = TelegramLimiter(make_budget(engine, budget_key("telegram", settings.telegram_token),
                                          settings.send_rate, settings.reply_reserve))
    request = AiohttpRequest(connection_pool_size=64, read_timeout=15, write_timeout=15)
    bot = ExtBot(settings.telegram_token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot",
                 defaults=Defaults(parse_mode=ParseMode.HTML), request=request, rate_limiter=limiter)
    try:
        await bot.initialize()
    except (TelegramError, OSError) as exc:
        await request.shutdown()             # no "Unclosed client session"
        what = "token bị từ chối / token refused" if isinstance(exc, InvalidToken) else str(exc)
        raise ChannelUnavailable(f"Không kết nối được Telegram ({api}): {what}. "
                                 f"Telegram unreachable; the messages stay queued and will be retried.") from None
    return TelegramSender(lambda: bot), bot.shutdown


async def open_senders(settings, sessionmaker, out=None) -> tuple[Senders, list[Callable[[], Awaitable]]]:
    """Every configured channel's sender; returns (senders, closers).

    Raises ChannelUnavailable (after closing what it opened) when Telegram cannot be reached."""
    senders, closers = Senders(), []
    if settings.telegram_enabled:
        senders["telegram"], close = await _telegram(settings, sessionmaker.kw.get("bind"))
        closers.append(close)
    if settings.zalo_enabled:
        from channels import zalo_standalone_sender as standalone_sender
        senders["zalo"], close = standalone_sender(settings, sessionmaker)
        closers.append(close)
    if settings.zns_enabled:            # reminders only: the route chain never puts a broadcast on ZNS
        from channels.zns import ZnsSender
        senders["zns"] = zns = ZnsSender(settings, sessionmaker)
        closers.append(zns.close)
    from channels.console import ConsoleSender
    senders["console"] = ConsoleSender(out or sys.stderr)
    return senders, closers


async def close_senders(closers) -> None:
    for close in closers:
        try:
            await close()
        except Exception as exc:  # closing must not hide the command's outcome
            print(f"warning: closing a sender: {exc}", file=sys.stderr)
