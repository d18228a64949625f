"""Zalo test harness: the real Runtime (aiohttp server, channel, delivery worker) against fake Zalo APIs."""
from __future__ import annotations

import re
import socket

import pytest

from channels import make_zalo_channel
from core.app import Core
from core.runtime import Runtime
from delivery.worker import DeliveryWorker
from tests.fakes.zalo_bot_api import FakeZaloBotAPI, text_update
from tests.fakes.zalo_oa_api import FakeZaloOAAPI, follow_event, text_event

SECRET = "zalo-webhook-secret-1"
TAG = re.compile(r"</?(b|i|a|strong|em|code|pre)\b[^>]*>", re.I)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Harness:
    """One running bot process with a Zalo channel; `say` sends like a user and waits for the answer."""

    def __init__(self, rt: Runtime, fake, mode: str):
        self.rt, self.fake, self.mode = rt, fake, mode
        self.channel = rt.channels[-1]
        self.core = rt.core
        port = rt.settings.http_port
        self.webhook_url = f"http://127.0.0.1:{port}/zalo/webhook"

    def worker(self) -> DeliveryWorker:
        return DeliveryWorker(self.core.sessionmaker, self.rt.senders, rate=500, per_chat_interval=0)

    def event(self, user: str, text: str, msg_id: str | None = None) -> dict:
        if self.mode == "bot":
            return text_update(user, text, message_id=msg_id)
        return text_event(self.fake.app_id, user, text, msg_id=msg_id)

    async def push(self, event: dict, **kw) -> int:
        if self.mode == "bot":
            status = await self.fake.push(event, **kw)
        else:
            status = await self.fake.push(self.webhook_url, event, **kw)
        await self.channel.wait_idle()
        return status

    async def say(self, user: str, text: str, msg_id: str | None = None) -> list[str]:
        """Send a text as `user`; return the texts the bot sent back for it."""
        before = len(self.fake.texts_to(user))
        status = await self.push(self.event(user, text, msg_id))
        assert status == 200
        return self.fake.texts_to(user)[before:]

    async def follow(self, user: str, name: str = "follow") -> int:
        return await self.push(follow_event(self.fake.app_id, user, name))


async def _runtime(settings_kw: dict, make_settings, url: str, fake, mode: str, router=None) -> Harness:
    port = free_port()
    settings = make_settings(url, http_host="127.0.0.1", http_port=port,
                             zalo_webhook_url=settings_kw.pop("zalo_webhook_url",
                                                              f"http://127.0.0.1:{port}/zalo/webhook"),
                             **settings_kw)
    core = Core(settings, router=router)
    rt = Runtime(settings, core=core)
    rt.add_channel(make_zalo_channel(rt))
    await rt.start(with_worker=False, with_scheduler=False, with_http=True)
    return Harness(rt, fake, mode)


@pytest.fixture
async def zalo_env(make_settings, today):
    """Factory: await zalo_env("bot" | "oa", db_url, webhook=True, router=None) -> Harness."""
    started: list = []

    async def make(mode: str, url: str, *, webhook: bool = True, router=None, **kw) -> Harness:
        if mode == "bot":
            fake = await FakeZaloBotAPI().start()
            settings_kw = dict(zalo_mode="bot", zalo_bot_token=fake.token, zalo_api_url=fake.url,
                               zalo_webhook_secret=SECRET)
            if not webhook:
                settings_kw["zalo_webhook_url"] = ""
        else:
            fake = await FakeZaloOAAPI().start()
            access, refresh = fake.issue_pair()
            settings_kw = dict(zalo_mode="oa", zalo_oa_app_id=fake.app_id, zalo_oa_app_secret=fake.app_secret,
                               zalo_oa_secret_key=fake.secret_key, zalo_oa_access_token=access,
                               zalo_oa_refresh_token=refresh, zalo_oa_api_url=fake.url, zalo_oauth_url=fake.url)
        settings_kw.update(kw)
        h = await _runtime(settings_kw, make_settings, url, fake, mode, router)
        started.append(h)
        return h

    yield make
    for h in started:
        await h.rt.stop()
        await h.fake.stop()
