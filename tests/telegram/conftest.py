"""A Runtime with the real TelegramChannel (PTB Application) polling the fake Bot API server."""
from __future__ import annotations

import asyncio
import socket
import time

import pytest

from channels.telegram import TelegramChannel
from channels.telegram_limiter import CHAT_BURST, CHAT_WINDOW
from core.app import Core
from core.runtime import Runtime
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def start_bot(tg, make_settings, sqlite_url, today):
    """start_bot(url=None, router=None, **settings) -> Runtime running the Telegram channel."""
    runtimes: list[Runtime] = []

    async def start(url: str | None = None, router=None, with_worker: bool = False, **kw) -> Runtime:
        settings = make_settings(url or sqlite_url, telegram_token=tg.token, telegram_api_url=tg.url, **kw)
        rt = Runtime(settings, core=Core(settings, router=router))
        rt.add_channel(TelegramChannel(rt, poll_timeout=1))
        await rt.start(with_worker=with_worker, with_scheduler=False)
        runtimes.append(rt)
        return rt
    yield start
    for rt in runtimes:
        await rt.stop()


def _paced_quiet(tg: FakeTelegram, chat: int, quiet: float) -> float:
    """The bot sends at most CHAT_BURST messages per CHAT_WINDOW to one chat: right after a burst,
    silence means "paced", not "done", so wait out the window."""
    sent = tg.sent_to(chat)
    if len(sent) < CHAT_BURST:
        return quiet
    burst_start = sent[-CHAT_BURST].t
    return max(quiet, burst_start + CHAT_WINDOW + 0.1 - sent[-1].t)


async def settle(tg: FakeTelegram, chat: int, before: int, quiet: float = 0.15, timeout: float = 8.0):
    """Wait for at least one new message to `chat`, then until nothing more arrives for `quiet` s
    (longer right after a burst the bot's per-chat pacing may be holding back)."""
    await tg.wait_sent(before + 1, chat_id=chat, timeout=timeout)
    last, since = len(tg.sent_to(chat)), time.monotonic()
    while time.monotonic() - since < _paced_quiet(tg, chat, quiet):
        await asyncio.sleep(0.02)
        now = len(tg.sent_to(chat))
        if now != last:
            last, since = now, time.monotonic()
    return tg.sent_to(chat)[before:]


async def say(tg: FakeTelegram, chat: int, text: str, **kw):
    """Push a text (or /command) and return the messages the bot sent in answer."""
    before = len(tg.sent_to(chat))
    tg.push_text(chat, text, **kw)
    return await settle(tg, chat, before)


async def tap(tg: FakeTelegram, chat: int, data: str | None = None, label: str | None = None):
    """Tap a button (by callback data or label) and return the answer messages."""
    before = len(tg.sent_to(chat))
    upd = tg.press(chat, label) if label else tg.push_callback(chat, data)
    out = await settle(tg, chat, before)
    qid = upd["callback_query"]["id"]
    await tg.wait_for(lambda: any(a["id"] == qid for a in tg.callback_answers))
    return out
