"""/healthz checks the database; /metrics (Prometheus text) is off without METRICS_TOKEN, protected with
it, and its counters move with traffic (real Runtime, real PTB, the fake Bot API)."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from channels.telegram import TelegramChannel
from core import clock
from core.app import Core
from core.ops.http import add_routes
from core.router import JobSpec
from core.runtime import Runtime
from core.scheduler import run_job
from delivery.queue import enqueue
from core.messages import Reply
from storage.models import Identity
from tests.ops.conftest import free_port

TOKEN = "metrics-secret-1"


def value(text: str, name: str, **labels) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def test_healthz_checks_the_database(sqlite_url, make_settings):
    good = Core(make_settings(sqlite_url))
    bad = Core(make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/nothing"))
    try:
        for core, status in ((good, 200), (bad, 503)):
            app = web.Application()
            add_routes(app, core)
            async with TestClient(TestServer(app)) as client:
                resp = await client.get("/healthz")
                body = await resp.json()
                assert resp.status == status, body
                if status == 503:
                    assert body["ok"] is False and body["error"].startswith("database:")
                    assert "127.0.0.1" not in body["error"]               # a short reason, no connection details
                else:
                    assert body == {"ok": True, "db": "ok"}
                assert (await client.get("/metrics")).status == 404        # no METRICS_TOKEN: no /metrics
    finally:
        await good.close()
        await bad.close()


async def test_metrics_move_with_traffic(tg, db_url, make_settings):
    port = free_port()
    settings = make_settings(db_url, telegram_token=tg.token, telegram_api_url=tg.url, http_host="127.0.0.1",
                             http_port=port, metrics_token=TOKEN)
    rt = Runtime(settings)
    rt.add_channel(TelegramChannel(rt, poll_timeout=1))
    await rt.start(with_scheduler=False, with_http=True)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async def scrape(**kw) -> str:
                async with http.get(f"{base}/metrics", **kw) as resp:
                    assert resp.status == 200
                    assert resp.headers["Content-Type"].startswith("text/plain")
                    return await resp.text()
            for kw in ({}, {"headers": {"Authorization": "Bearer wrong"}}, {"params": {"token": "wrong"}}):
                async with http.get(f"{base}/metrics", **kw) as resp:
                    assert resp.status == 401
            before = await scrape(headers={"Authorization": f"Bearer {TOKEN}"})
            assert (await scrape(params={"token": TOKEN}))

            # traffic: /start and a question
            tg.push_command(501, "start")
            await tg.wait_sent(1, chat_id=501, timeout=15)
            tg.push_text(501, "hồ sơ OCOP gồm những gì")
            await tg.wait_sent(2, chat_id=501, timeout=15)
            after = await scrape(params={"token": TOKEN})
            start = dict(channel="telegram", route="cmd:start")
            assert value(after, "ocop_updates_total", **start) == value(before, "ocop_updates_total", **start) + 1
            assert value(after, "ocop_updates_total", channel="telegram", route="text") >= \
                value(before, "ocop_updates_total", channel="telegram", route="text") + 1
            assert value(after, "ocop_reply_seconds_count", channel="telegram") >= \
                value(before, "ocop_reply_seconds_count", channel="telegram") + 2

            # deliveries: one sent after a 429, one waiting for a channel this process lacks
            async with rt.core.sessionmaker() as s, s.begin():
                ident = await s.scalar(select(Identity).where(Identity.channel == "telegram"))
                tg.script_errors([429], chat_id=501, retry_after=1)
                await enqueue(s, ident, Reply("Thông báo thử"), key="m:1", kind="notice")
                zalo = Identity(user_id=ident.user_id, channel="zalo", external_id="z1", chat_id="z1")
                s.add(zalo)
                await s.flush()
                await enqueue(s, zalo, Reply("chờ Zalo"), key="m:2", kind="notice",
                              not_before=clock.now() - timedelta(minutes=5))
            rt.worker.wakeup.set()
            await tg.wait_sent(3, chat_id=501, timeout=20)
            for _ in range(100):            # the worker records the outcome right after the call
                after = await scrape(params={"token": TOKEN})
                if value(after, "ocop_delivery_rows", status="sent") >= 1:
                    break
                await asyncio.sleep(0.1)
            assert value(after, "ocop_deliveries_total", channel="telegram", status="sent") == \
                value(before, "ocop_deliveries_total", channel="telegram", status="sent") + 1
            assert value(after, "ocop_rate_limited_total", channel="telegram") >= \
                value(before, "ocop_rate_limited_total", channel="telegram") + 1
            assert value(after, "ocop_delivery_rows", status="sent") == 1
            assert value(after, "ocop_queue_depth") == 1                         # the Zalo row waits

            # a reminder sweep (the scheduler's job runner)
            spec = next(j for j in rt.core.router.jobs if j.name == "reminder_sweep")
            assert await run_job(rt.core, spec)
            failing = JobSpec("reminder_sweep", _boom, {}, None, False)
            assert not await run_job(rt.core, failing)
            final = await scrape(params={"token": TOKEN})
            sweep_ok = dict(job="reminder_sweep", outcome="ok")
            assert value(final, "ocop_reminder_sweeps_total", **sweep_ok) == \
                value(after, "ocop_reminder_sweeps_total", **sweep_ok) + 1
            assert value(final, "ocop_reminder_sweeps_total", job="reminder_sweep", outcome="failed") == \
                value(after, "ocop_reminder_sweeps_total", job="reminder_sweep", outcome="failed") + 1
            assert value(final, "ocop_reminder_sweep_seconds_count", job="reminder_sweep") == \
                value(after, "ocop_reminder_sweep_seconds_count", job="reminder_sweep") + 2
            assert value(final, "ocop_incidents_open") == 1                     # the failed sweep
    finally:
        await rt.stop()


async def _boom(core):
    raise RuntimeError("sweep exploded")


async def test_queue_depth_and_oldest_row_from_the_database(sqlite_url, make_core):
    from tests.helpers import msg
    core = make_core(sqlite_url, metrics_token=TOKEN)
    await core.handle(msg("/start", user="q1"))
    app = web.Application()
    add_routes(app, core)
    async with TestClient(TestServer(app)) as client:
        async def scrape() -> str:
            resp = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert resp.status == 200
            return await resp.text()
        empty = await scrape()
        assert value(empty, "ocop_queue_depth") == 0 and value(empty, "ocop_queue_oldest_age_seconds") == 0
        async with core.sessionmaker() as s, s.begin():
            ident = await s.scalar(select(Identity))
            await enqueue(s, ident, Reply("a"), key="q:1", kind="notice", not_before=clock.now() - timedelta(minutes=7))
            await enqueue(s, ident, Reply("b"), key="q:2", kind="notice")
            await enqueue(s, ident, Reply("c"), key="q:3", kind="notice", not_before=clock.now() + timedelta(days=1))
        text = await scrape()
        assert value(text, "ocop_queue_depth") == 3 and value(text, "ocop_delivery_rows", status="queued") == 3
        assert 420 <= value(text, "ocop_queue_oldest_age_seconds") < 480      # the scheduled row is not late


def test_log_file_is_json_lines_and_survives_rotation(tmp_path):
    import json
    import logging
    from core.ops.logs import log_to_file
    path = tmp_path / "log" / "bot.log"
    handler = log_to_file(str(path))
    try:
        log = logging.getLogger("ocop.update")
        log.setLevel(logging.INFO)
        log.info(json.dumps({"ev": "update", "channel": "telegram", "route": "cmd:start", "ms": 1.5}))
        path.rename(tmp_path / "log" / "bot.log.1")            # what logrotate does
        logging.getLogger("ocop.test").warning("sau khi xoay vòng")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    [first] = [json.loads(line) for line in (tmp_path / "log" / "bot.log.1").read_text().splitlines()]
    assert first["route"] == "cmd:start" and first["level"] == "INFO" and first["ts"]
    [second] = [json.loads(line) for line in path.read_text().splitlines()]
    assert second["msg"] == "sau khi xoay vòng"


def test_unwritable_log_file_does_not_stop_a_command(tmp_path):
    from core.ops.logs import log_to_file
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert log_to_file(str(blocker / "sub" / "bot.log")) is None
