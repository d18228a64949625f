"""Wires a running bot: migrations, Core, channels, delivery worker, scheduler, HTTP server."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import replace

from aiohttp import web

from core.app import Core
from core.config import Settings
from core.scheduler import build_scheduler
from delivery.senders import Senders
from delivery.worker import DeliveryWorker
from storage.migrate import upgrade_async

log = logging.getLogger("ocop.runtime")


class Runtime:
    """Everything a running process owns. Channels get it in start()."""

    def __init__(self, settings: Settings, core: Core | None = None):
        self.settings = settings
        self.core = core or Core(settings)
        self.senders = Senders()
        self.worker = DeliveryWorker(self.core.sessionmaker, self.senders, rate=settings.send_rate,
                                     per_chat_interval=settings.per_chat_interval,
                                     max_attempts=settings.max_attempts)
        self.core.services["worker"] = self.worker
        self.core.services["senders"] = self.senders
        self.channels: list = []
        self.web_app = web.Application(client_max_size=6 * 1024 * 1024)   # console uploads (reader: 5 MB)
        from core.ops.alerts import Alerts
        from core.ops.http import add_routes as add_ops_routes
        self.core.services["alerts"] = Alerts(self.core.sessionmaker, settings)   # alert(kind, key, text)
        add_ops_routes(self.web_app, self.core)        # /healthz (database), /metrics (METRICS_TOKEN)
        # reach (handlers/reach): reminder route chain, ZNS by phone, file links, ZNS receipts
        from handlers.reach import web as reach_web
        from handlers.reach.chain import install
        install(self.worker, settings)
        self.zns = None
        if settings.zns_enabled:
            from channels.zns import ZnsSender
            self.zns = self.senders["zns"] = ZnsSender(settings, self.core.sessionmaker)
        reach_web.add_routes(self.web_app, settings, self.core.sessionmaker)
        self.web_runner: web.AppRunner | None = None
        self.scheduler = None
        self.stop_event = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def configured_channels(self) -> list:
        chans = []
        if self.settings.telegram_enabled:
            from channels.telegram import TelegramChannel
            chans.append(TelegramChannel(self))
        if self.settings.zalo_enabled:
            from channels import make_zalo_channel
            chans.append(make_zalo_channel(self))
        return chans

    def add_channel(self, channel) -> None:
        self.channels.append(channel)
        self.senders[channel.name] = channel.sender

    async def start(self, *, with_worker: bool = True, with_scheduler: bool = True,
                    with_http: bool | None = None) -> None:
        await upgrade_async(self.settings.database_url)
        for ch in self.channels:
            await ch.start(self)
        needs_http = (any(getattr(ch, "needs_http", False) for ch in self.channels) or self.settings.web_console
                      or (bool(self.channels) and (self.zns is not None or self.settings.has_public_url)))
        if with_http or (with_http is None and needs_http):
            for ch in self.channels:
                if hasattr(ch, "add_routes"):
                    ch.add_routes(self.web_app)
            if self.settings.web_console:
                from core.web.app import mount
                mount(self.web_app, self.core)
            self.web_runner = web.AppRunner(self.web_app)
            await self.web_runner.setup()
            site = web.TCPSite(self.web_runner, self.settings.http_host, self.settings.http_port)
            await site.start()
            log.info("HTTP server on %s:%s", self.settings.http_host, self.settings.http_port)
        for hook in self.core.router.startup:
            await hook(self.core, self.worker)
        if with_worker:
            await self.worker.recover()
            self._tasks.append(asyncio.create_task(self.worker.run_forever(self.stop_event)))
        if with_scheduler:
            self.scheduler = build_scheduler(self.core)
            self.scheduler.start()

    async def stop(self) -> None:
        self.stop_event.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self._tasks:   # let the delivery worker finish the calls in flight (no 'unknown' rows)
            await asyncio.wait(self._tasks, timeout=15)
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for ch in reversed(self.channels):
            try:
                await ch.stop()
            except Exception:
                log.exception("stopping channel %s", ch.name)
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        if self.zns is not None:
            await self.zns.close()
        await self.core.close()


async def run(settings: Settings) -> int:
    """`python bot.py run`."""
    rt = Runtime(settings)
    chans = rt.configured_channels()
    if not chans:
        if sys.stdin.isatty():
            print("Chưa cấu hình kênh nào (TELEGRAM_BOT_TOKEN / ZALO_*): chạy ở chế độ dòng lệnh.",
                  flush=True)
            return await run_console(settings, rt)
        print("No channel configured: set TELEGRAM_BOT_TOKEN (Telegram) or ZALO_MODE with "
              "ZALO_BOT_TOKEN / ZALO_OA_APP_ID+ZALO_OA_SECRET_KEY (Zalo), or run `python bot.py console`.",
              file=sys.stderr)
        await rt.core.close()
        return 2
    for ch in chans:
        rt.add_channel(ch)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):    # before start: a stop asked during start-up waits for it
        try:
            loop.add_signal_handler(sig, rt.stop_event.set)
        except NotImplementedError:  # pragma: no cover
            pass
    await rt.start(with_http=True)       # /healthz and /metrics also in polling mode
    log.info("running: %s", ", ".join(ch.name for ch in rt.channels))
    await rt.stop_event.wait()
    await rt.stop()
    return 0


async def run_web(settings: Settings) -> int:
    """`python bot.py web`: the officers' console with the delivery worker and the scheduler, no chat
    channel (proactive messages wait in `deliveries` for a process that has the channel)."""
    settings = replace(settings, web_console=True)
    rt = Runtime(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, rt.stop_event.set)
        except NotImplementedError:  # pragma: no cover
            pass
    await rt.start(with_http=True)
    print(f"Trang quản trị: {settings.base_url}/quantri/  (đăng nhập: python bot.py web-login --user telegram:<id>)",
          flush=True)
    await rt.stop_event.wait()
    await rt.stop()
    return 0


async def run_console(settings: Settings, rt: Runtime | None = None) -> int:
    """`python bot.py console`: the same bot in the terminal; proactive messages print inline."""
    from channels.console import ConsoleChannel
    if logging.getLogger().level > logging.DEBUG:          # not -v: the terminal is the conversation
        logging.getLogger("ocop").setLevel(logging.WARNING)
    rt = rt or Runtime(settings)
    console = ConsoleChannel(rt.core)
    rt.add_channel(_ConsoleAdapter(console))
    await rt.start(with_scheduler=False, with_http=False)
    try:
        await console.run()
    finally:
        await rt.stop()
    return 0


class _ConsoleAdapter:
    name = "console"

    def __init__(self, console):
        self.console = console
        self.sender = console.sender

    async def start(self, runtime):
        return None

    async def stop(self):
        return None
