"""ZNS test harness: fake OA OAuth + fake ZNS (real HTTP), a worker with the route chain, the
receipt webhook on a real aiohttp server."""
from __future__ import annotations

import socket

import pytest
from aiohttp import web

from channels.zns import ZnsSender
from delivery.senders import Senders
from delivery.worker import DeliveryWorker
from handlers.reach.chain import install
from tests.products.util import RecordingSender
from tests.fakes.zalo_oa_api import FakeZaloOAAPI
from tests.fakes.zns_api import FakeZnsAPI

CERT_PARAMS = {"product_name": 100, "stars": 10, "decision_no": 50, "expiry_date": 10, "window_open": 10,
               "window_close": 10, "bot_guide": 100}
ROUND_PARAMS = {"round_name": 100, "province": 50, "deadline": 10, "bot_guide": 100}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ZnsEnv:
    def __init__(self, core, oa, zns, port):
        self.core, self.oa, self.zns, self.port = core, oa, zns, port
        self.chat = RecordingSender()
        self.sender = ZnsSender(core.settings, core.sessionmaker)
        self.receipt_url = f"http://127.0.0.1:{port}/zalo/zns"

    def worker(self, **kw) -> DeliveryWorker:
        w = DeliveryWorker(self.core.sessionmaker, Senders(console=self.chat, zns=self.sender), rate=2000,
                           per_chat_interval=0, **kw)
        install(w, self.core.settings)
        return w


@pytest.fixture
async def zns_env(make_core):
    started = []

    async def make(url: str, **kw):
        oa = await FakeZaloOAAPI().start()
        zns = FakeZnsAPI(oa)
        await zns.start()
        zns.template("T_CERT", CERT_PARAMS)
        zns.template("T_ROUND", ROUND_PARAMS)
        access, refresh = oa.issue_pair()
        port = free_port()
        kw.setdefault("round_offsets", ())
        core = make_core(url, zalo_oa_app_id="app1", zalo_oa_app_secret="appsecret", zalo_oa_secret_key="oasecret",
                         zalo_oa_access_token=access, zalo_oa_refresh_token=refresh, zalo_oauth_url=oa.url,
                         zns_api_url=zns.url, zns_template_cert_expiry="T_CERT", zns_template_round_deadline="T_ROUND",
                         admin_ids=frozenset({"console:admin"}), **kw)
        from handlers.reach import web as reach_web
        app = web.Application()
        reach_web.add_routes(app, core.settings, core.sessionmaker)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        env = ZnsEnv(core, oa, zns, port)
        started.append((oa, zns, runner, env))
        return env
    yield make
    for oa, zns, runner, env in started:
        await env.sender.close()
        await runner.cleanup()
        await zns.stop()
        await oa.stop()
