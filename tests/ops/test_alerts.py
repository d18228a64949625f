"""Admin alerts: one message per incident through the delivery path, whatever the number of occurrences."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from core import clock
from core.ops import alerts
from core.router import JobSpec
from core.scheduler import run_job
from handlers.ops.watch import check_queue, check_webhook
from storage.models import Delivery, Identity, Incident
from tests.helpers import msg


async def setup(make_core, url, **kw):
    """A core whose admins (telegram:1000 and console:admin) both wrote to the bot once."""
    core = make_core(url, **kw)
    await core.handle(msg("/start", user="admin"))
    await core.handle(msg("/start", user="1000", channel="telegram"))
    return core


async def alert_rows(core) -> list[Delivery]:
    async with core.sessionmaker() as s:
        return list(await s.scalars(select(Delivery).where(Delivery.key.like("incident:%")).order_by(Delivery.id)))


async def test_one_message_per_incident_through_the_delivery_path(db_url, make_core, sender):
    from delivery.senders import Senders
    from delivery.worker import DeliveryWorker
    core = await setup(make_core, db_url)
    assert await alerts.alert(core.sessionmaker, core.settings, "zns", "-131:tpl1", "Mẫu tpl1 chưa được duyệt")
    for _ in range(5):                                      # the same trouble again and again
        assert not await alerts.alert(core.sessionmaker, core.settings, "zns", "-131:tpl1", "Mẫu tpl1 chưa được duyệt")
    rows = await alert_rows(core)
    assert sorted(r.channel for r in rows) == ["console", "telegram"] and {r.kind for r in rows} == {"notice"}
    worker = DeliveryWorker(core.sessionmaker, Senders(console=sender, telegram=sender), rate=1000, per_chat_interval=0)
    await worker.drain(timeout=10)
    assert len(sender.to("1000")) == 1
    [text] = sender.to("admin")
    assert "Cảnh báo vận hành" in text and "tpl1" in text
    async with core.sessionmaker() as s:
        [inc] = await alerts.open_incidents(s)
    assert (inc.kind, inc.key, inc.occurrences, inc.episode) == ("zns", "-131:tpl1", 6, 1)
    # resolved, then the same trouble later: a new incident, one more message
    assert await alerts.resolve(core.sessionmaker, "zns", "-131:tpl1")
    assert not await alerts.resolve(core.sessionmaker, "zns", "-131:tpl1")
    async with core.sessionmaker() as s:
        assert await alerts.open_incidents(s) == []
    assert await alerts.alert(core.sessionmaker, core.settings, "zns", "-131:tpl1", "lại lỗi")
    await worker.drain(timeout=10)
    assert len(sender.to("admin")) == 2 and len(await alert_rows(core)) == 4


async def test_concurrent_alerts_notify_once(db_url, make_core):
    core = await setup(make_core, db_url)
    results = await asyncio.gather(*(alerts.alert(core.sessionmaker, core.settings, "zns", "-115", "hết tiền")
                                     for _ in range(6)))
    assert results.count(True) == 1
    assert len(await alert_rows(core)) == 2                 # one per admin
    async with core.sessionmaker() as s:
        assert await s.scalar(select(Incident.occurrences)) == 6


async def test_admin_who_never_wrote_gets_nothing_but_incident_is_listed(sqlite_url, make_core):
    core = make_core(sqlite_url)
    assert await alerts.alert(core.sessionmaker, core.settings, "queue_stale", "deliveries", "ứ")
    assert await alert_rows(core) == []
    async with core.sessionmaker() as s:
        assert [i.kind for i in await alerts.open_incidents(s)] == ["queue_stale"]


async def test_queue_older_than_30_minutes(db_url, make_core):
    core = await setup(make_core, db_url)
    async with core.sessionmaker() as s, s.begin():
        ident = await s.scalar(select(Identity).where(Identity.channel == "console"))
        s.add(Delivery(key="old:1", kind="notice", identity_id=ident.id, channel="zalo", chat_id="z",
                       payload={"text": "x"}, next_attempt_at=clock.now() - timedelta(minutes=20)))
    assert not await check_queue(core)                     # 20 minutes: fine
    async with core.sessionmaker() as s, s.begin():
        row = await s.scalar(select(Delivery).where(Delivery.key == "old:1"))
        row.next_attempt_at = clock.now() - timedelta(minutes=45)
    assert await check_queue(core) and await check_queue(core)
    rows = [r for r in await alert_rows(core)]
    assert len(rows) == 2 and "45 phút" in rows[0].payload["text"]
    async with core.sessionmaker() as s, s.begin():
        (await s.scalar(select(Delivery).where(Delivery.key == "old:1"))).status = "sent"
    assert not await check_queue(core)
    async with core.sessionmaker() as s:
        assert await alerts.open_incidents(s) == []


async def test_failed_reminder_sweep_alerts_once_and_success_resolves(db_url, make_core):
    core = await setup(make_core, db_url)
    calls = {"n": 0}

    async def sweep(_core):
        calls["n"] += 1
        if calls["n"] <= 3:
            raise RuntimeError("database is locked")
    spec = JobSpec("reminder_sweep", sweep, {}, None, False)
    assert [await run_job(core, spec) for _ in range(3)] == [False, False, False]
    rows = await alert_rows(core)
    assert len(rows) == 2 and "reminder_sweep" in rows[0].payload["text"]
    assert "database is locked" in rows[0].payload["text"]
    assert await run_job(core, spec)
    async with core.sessionmaker() as s:
        inc = await s.scalar(select(Incident))
    assert inc.status == "resolved" and inc.occurrences == 3


async def test_webhook_last_error_message(tg, sqlite_url, make_core):
    url = "https://bot.example.vn/telegram"
    core = await setup(make_core, sqlite_url, telegram_token=tg.token, telegram_api_url=tg.url, webhook_url=url)
    tg.webhook = {"url": url, "secret_token": "s"}
    assert not await check_webhook(core)
    tg.set_webhook_error("Connection timed out")
    assert await check_webhook(core) and await check_webhook(core)
    rows = await alert_rows(core)
    assert len(rows) == 2 and "Connection timed out" in rows[0].payload["text"]
    tg.set_webhook_error("Connection timed out", when=(clock.now() - timedelta(hours=2)).timestamp())
    assert not await check_webhook(core)
    async with core.sessionmaker() as s:
        assert await s.scalar(select(Incident.status)) == "resolved"


async def test_zalo_token_that_cannot_be_refreshed(zoa, db_url, make_core):
    from channels.zalo_tokens import OATokens, TokenError
    core = await setup(make_core, db_url, zalo_mode="oa", zalo_oa_app_id=zoa.app_id,
                       zalo_oa_app_secret=zoa.app_secret, zalo_oa_secret_key=zoa.secret_key,
                       zalo_oa_access_token="", zalo_oa_refresh_token="rt-unknown", zalo_oauth_url=zoa.url)
    tokens = OATokens(core.sessionmaker, core.settings)
    for _ in range(3):
        try:
            await tokens.access_token()
        except TokenError:
            pass
        else:  # pragma: no cover
            raise AssertionError("refresh should fail")
    rows = await alert_rows(core)
    assert len(rows) == 2 and "zalo-oa-auth" in rows[0].payload["text"]
    access, refresh = zoa.issue_pair()
    await tokens.replace("stale", refresh, expires_in=0)     # a new pair from re-authorisation
    assert (await tokens.access_token()).startswith("at")    # refreshed -> incident resolved
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Incident).where(Incident.status == "open")) == 0


async def test_bound_api_for_other_features(sqlite_url, make_settings):
    from core.runtime import Runtime
    rt = Runtime(make_settings(sqlite_url))
    try:
        api = rt.core.services["alerts"]
        assert await api.alert("zns", "-115", "Hết số dư ZCA") and not await api.alert("zns", "-115", "Hết số dư ZCA")
        assert await api.resolve("zns", "-115")
    finally:
        await rt.core.close()


async def test_text_is_escaped_once(sqlite_url, make_core):
    core = await setup(make_core, sqlite_url)
    await alerts.alert(core.sessionmaker, core.settings, "zns", "x", 'mẫu "a" < b & c')
    [row, _] = await alert_rows(core)
    assert 'mẫu "a" &lt; b &amp; c' in row.payload["text"] or "mẫu &#34;a&#34; &lt; b &amp; c" in row.payload["text"]
    assert "&amp;lt;" not in row.payload["text"] and "&amp;#34;" not in row.payload["text"]


async def test_row_no_process_can_send_counts_from_its_creation(db_url, make_core, sender):
    """A row for a channel no running process serves is put back a minute at a time: it still
    becomes 'old' (issue 16: a queue that never moves must alert)."""
    from delivery.senders import Senders
    from delivery.worker import DeliveryWorker
    core = await setup(make_core, db_url)
    worker = DeliveryWorker(core.sessionmaker, Senders(console=sender), rate=1000, per_chat_interval=0)
    async with core.sessionmaker() as s, s.begin():
        s.add(Delivery(key="unserved:1", kind="notice", channel="zns", chat_id="84900000001",
                       payload={"text": "x"}, created_at=clock.now(), next_attempt_at=clock.now()))
    for minutes in (0, 10, 20):
        clock.set_clock(clock.StartedClock(clock.now() + timedelta(minutes=10 if minutes else 0)))
        assert await worker.run_batch() == 1                  # claimed, put back for a minute
        assert not await check_queue(core)
    clock.set_clock(clock.StartedClock(clock.now() + timedelta(minutes=15)))
    assert await worker.run_batch() == 1
    async with core.sessionmaker() as s:
        row = await s.scalar(select(Delivery).where(Delivery.key == "unserved:1"))
        assert row.status == "queued" and row.next_attempt_at.replace(tzinfo=None) > clock.now().replace(tzinfo=None)
    assert await check_queue(core)                            # 35 minutes since it was made
    async with core.sessionmaker() as s:
        assert [i.kind for i in await alerts.open_incidents(s)] == ["queue_stale"]
