"""Ops test harness: fake Telegram / Zalo Bot / Zalo OA / ZNS servers and doctor helpers."""
from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_bot_api import FakeZaloBotAPI
from tests.fakes.zalo_oa_api import FakeZaloOAAPI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def zbot():
    fake = await FakeZaloBotAPI().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def zoa():
    fake = await FakeZaloOAAPI().start()
    yield fake
    await fake.stop()


class FakeZNS:
    """GET /template/info/v2?template_id= answering like Zalo (channels.md §C7)."""

    def __init__(self, oa: FakeZaloOAAPI):
        self.oa = oa
        self.templates: dict[str, str] = {}        # template id -> status (ENABLE, REJECT, PENDING_REVIEW…)
        self.url = ""
        self._runner = None

    async def _info(self, request):
        token = request.headers.get("access_token", "")
        if not self.oa.access.get(token):
            return web.json_response({"error": -124, "message": "Access token is invalid"})
        tid = request.query.get("template_id", "")
        if tid not in self.templates:
            return web.json_response({"error": -1123, "message": "Template does not exist"})
        return web.json_response({"error": 0, "message": "Success", "data": {
            "templateId": tid, "templateName": "Nhắc hạn OCOP", "status": self.templates[tid],
            "listParams": [{"name": "ten_san_pham", "require": True, "type": "STRING", "maxLength": 100}]}})

    async def start(self):
        app = web.Application()
        app.router.add_get("/template/info/v2", self._info)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self):
        await self._runner.cleanup()


@pytest.fixture
async def zns(zoa):
    fake = await FakeZNS(zoa).start()
    yield fake
    await fake.stop()


@pytest.fixture
def run_check():
    """run_check(check, settings, needs_db=False) -> list[Check] (a fresh doctor context)."""
    from handlers.ops import doctor

    async def run(check, settings, needs_db: bool = False, **kw):
        ctx: dict = {}
        async with aiohttp.ClientSession() as http:
            ctx["http"] = http
            try:
                if needs_db:
                    await doctor.check_database(settings, ctx)
                return await check(settings, ctx, **kw)
            finally:
                if ctx.get("engine") is not None:
                    await ctx["engine"].dispose()
    return run
