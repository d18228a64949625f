"""What the real-browser tests share: Debian's Chromium, screenshots at 1280 and 390 px, and the bot
running on the fake Telegram server with the console on a free local port."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from channels.telegram import TelegramChannel
from core.app import Core
from core.runtime import Runtime
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


@asynccontextmanager
async def console_bot(make_settings, db_url: str, *, worker: bool):
    """(fake Telegram, running Runtime, console base URL); the scheduler is off, the worker as asked."""
    async with FakeTelegram() as tg:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = make_settings(db_url, telegram_token=tg.token, telegram_api_url=tg.url, web_console=True,
                                 http_host="127.0.0.1", http_port=port, public_url=base)
        rt = Runtime(settings, core=Core(settings))
        rt.add_channel(TelegramChannel(rt, poll_timeout=1))
        await rt.start(with_worker=worker, with_scheduler=False)
        try:
            yield tg, rt, base
        finally:
            await rt.stop()


async def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})
