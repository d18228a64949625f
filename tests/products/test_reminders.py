"""Reminder sweeps over simulated dates: each offset once, re-runs send nothing, catch-up sends the
most relevant one, crash between claim and send, blocked users, two concurrent sweeps+workers."""
import asyncio
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from delivery.senders import Senders
from delivery.worker import DeliveryWorker
from core.reminders import sweep, sweep_job
from handlers.products.reminders import LOOKBACK_DAYS
from storage.db import make_engine, make_sessionmaker
from storage.models import Delivery, Identity, Reminder
from tests.products.util import RecordingSender, add_cert, add_user

REC = date(2024, 3, 5)
EXP = date(2027, 3, 5)


async def _seed(core, **kw):
    async with core.sessionmaker() as s, s.begin():
        u = await add_user(s, kw.pop("key", "alice"))
        cert = await add_cert(s, u.id, recognized=REC, **kw)
        return u.id, cert.id


async def _sweep(core, day, **kw):
    async with core.sessionmaker() as s, s.begin():
        return await sweep(s, core.settings, day, **kw)


def _worker(core, sender, **kw):
    from handlers.reach.chain import install
    w = DeliveryWorker(core.sessionmaker, Senders(console=sender), rate=1000, per_chat_interval=0, **kw)
    install(w, core.settings)
    return w


async def _reminders(core):
    async with core.sessionmaker() as s:
        return {r.key: r.status for r in await s.scalars(select(Reminder))}


async def test_each_offset_fires_once_over_simulated_days(db_url, make_core):
    core = make_core(db_url, round_offsets=())
    _uid, cid = await _seed(core)
    sender = RecordingSender()
    worker = _worker(core, sender)
    day = EXP - timedelta(days=220)
    while day <= EXP + timedelta(days=5):
        await _sweep(core, day)
        await _sweep(core, day)                     # a second sweep the same day creates nothing
        await worker.drain(timeout=5)
        day += timedelta(days=1)
    assert len(sender.sent) == 5
    assert [t.split("\n")[0] for _c, t in sender.sent] == [
        "⏰ <b>Nhắc hạn OCOP: còn 210 ngày</b>", "⏰ <b>Nhắc hạn OCOP: còn 180 ngày</b>",
        "⏰ <b>Nhắc hạn OCOP: còn 150 ngày</b>", "⏰ <b>Nhắc hạn OCOP: còn 125 ngày</b>",
        "⚠️ <b>Hôm nay chứng nhận OCOP hết hạn</b>"]
    first = sender.sent[0][1]
    assert "Mật ong" in first and "05/03/2027" in first and "ít nhất 30 ngày" in first
    # the filing window of QĐ 26/2026 Điều 7.6a for this certificate, and the Điều 12.3 extension
    assert "06/09/2026" in first and "05/11/2026" in first and "01/09/2027" in first
    assert set(await _reminders(core)) == {f"cert:{cid}:2027-03-05:{o}" for o in (210, 180, 150, 125, 0)}
    async with core.sessionmaker() as s:
        d = await s.scalar(select(Delivery).where(Delivery.key == f"cert:{cid}:2027-03-05:210"))
        buttons = [b["data"] for row in d.payload["buttons"] for b in row]
        assert "d:start:reeval" in buttons and f"p:mute:{cid}" in buttons and d.status == "sent"


async def test_catch_up_after_downtime_sends_only_the_most_relevant(db_url, make_core):
    core = make_core(db_url, round_offsets=())
    _uid, cid = await _seed(core)
    res = await _sweep(core, EXP - timedelta(days=140))
    assert (res.queued, res.skipped, res.enqueued) == (1, 2, 1)
    assert await _reminders(core) == {f"cert:{cid}:2027-03-05:150": "queued", f"cert:{cid}:2027-03-05:180": "skipped",
                                      f"cert:{cid}:2027-03-05:210": "skipped"}
    sender = RecordingSender()
    await _worker(core, sender).drain(timeout=5)
    assert len(sender.sent) == 1 and "còn 140 ngày" in sender.sent[0][1]
    res = await _sweep(core, EXP + timedelta(days=3))          # down again over day 125 and day 0
    assert res.queued == 1 and res.due[0].offset == 0
    await _worker(core, sender).drain(timeout=5)
    assert len(sender.sent) == 2 and "đã hết hạn từ ngày" in sender.sent[1][1]
    assert (await _reminders(core))[f"cert:{cid}:2027-03-05:125"] == "skipped"


async def test_certificate_past_its_window_gets_one_honest_message(db_url, make_core):
    """First seen 100 days before expiry (window 180–120 days closed): one message, not the sequence."""
    core = make_core(db_url, round_offsets=())
    _uid, cid = await _seed(core)
    sender = RecordingSender()
    for day in range(100, -10, -1):
        await _sweep(core, EXP - timedelta(days=day))
        await _worker(core, sender).drain(timeout=5)
    assert len(sender.sent) == 1
    text = sender.sent[0][1]
    assert "đã qua thời hạn nộp hồ sơ" in text and "UBND xã" in text and "01/09/2027" in text
    assert await _reminders(core) == {f"cert:{cid}:2027-03-05:late": "queued",
                                      **{f"cert:{cid}:2027-03-05:{o}": "skipped" for o in (210, 180, 150, 125)}}


async def test_certificate_expiring_in_200_days_is_reminded_inside_the_window(sqlite_url, make_core):
    core = make_core(sqlite_url, round_offsets=())
    _uid, cid = await _seed(core)
    sender = RecordingSender()
    for day in range(200, 115, -1):
        await _sweep(core, EXP - timedelta(days=day))
        await _worker(core, sender).drain(timeout=5)
    opens, closes = EXP - timedelta(days=180), EXP - timedelta(days=120)
    keys = [k for k in await _reminders(core)]
    # first seen 200 days before expiry: the "prepare" reminder at once, then three inside the window
    assert keys == [f"cert:{cid}:2027-03-05:{o}" for o in (210, 180, 150, 125)]
    assert all(opens <= EXP - timedelta(days=int(k.rsplit(":", 1)[1])) <= closes for k in keys[1:])
    assert len(sender.sent) == 4 and "còn 200 ngày" in sender.sent[0][1] and "06/09/2026" in sender.sent[0][1]


async def test_muted_and_long_expired_get_nothing_unowned_and_unreachable_go_to_the_call_list(sqlite_url, make_core):
    from storage.models import CallListEntry
    core = make_core(sqlite_url, round_offsets=())
    async with core.sessionmaker() as s, s.begin():
        u = await add_user(s, "alice")
        gone = await add_user(s, "gone", active=False)
        await add_cert(s, u.id, product="muted", muted=True, decision="1")
        unowned = await add_cert(s, None, product="unowned", decision="2")
        unreachable = await add_cert(s, gone.id, product="unreachable", decision="3")
        old = await add_cert(s, u.id, product="old", decision="4", recognized=date(2024, 2, 2))
    res = await _sweep(core, EXP - timedelta(days=210))
    assert sorted(d.ref_id for d in res.due) == sorted([unowned.id, unreachable.id, old.id])
    assert (res.enqueued, res.call_listed) == (1, 2)
    async with core.sessionmaker() as s:
        assert {(c.cert_id, c.reason) for c in await s.scalars(select(CallListEntry))} == {
            (unowned.id, "no_route"), (unreachable.id, "no_route")}
        assert [d.key for d in await s.scalars(select(Delivery))] == [f"cert:{old.id}:{old.expires_on}:180"]   # 210 days before EXP = 179 before its expiry
    assert old.expires_on == EXP - timedelta(days=LOOKBACK_DAYS + 1)
    assert old.id not in [d.ref_id for d in (await _sweep(core, EXP)).due]


async def test_dry_run_lists_and_writes_nothing(sqlite_url, make_core):
    core = make_core(sqlite_url, round_offsets=())
    await _seed(core)
    res = await _sweep(core, EXP - timedelta(days=150), dry_run=True)
    assert len(res.due) == 1 and "còn 150 ngày" in res.due[0].reply.text
    assert await _reminders(core) == {}


def _crash(url: str, mode: str) -> str:
    """A real worker process that claims due rows and dies (os._exit) at the given point."""
    res = subprocess.run([sys.executable, str(Path(__file__).with_name("crash_worker.py")), url, mode],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 3, res.stderr
    return res.stdout.strip()


async def test_crash_between_claim_and_send_does_not_lose_the_reminder(db_url, make_core):
    core = make_core(db_url, round_offsets=())
    await _seed(core)
    await _sweep(core, EXP - timedelta(days=210))
    assert await asyncio.to_thread(_crash, db_url, "claim") == "1"     # claimed, then the process died
    async with core.sessionmaker() as s:
        assert (await s.scalar(select(Delivery))).status == "claimed"
    sender = RecordingSender()
    survivor = _worker(core, sender)
    assert await survivor.recover() == {"requeued": 1, "unknown": 0}
    await survivor.drain(timeout=5)
    assert len(sender.sent) == 1 and "còn 210 ngày" in sender.sent[0][1]
    await survivor.recover()
    await _sweep(core, EXP - timedelta(days=210))
    await survivor.drain(timeout=5)
    assert len(sender.sent) == 1


async def test_crash_inside_the_send_call_is_never_resent(sqlite_url, make_core):
    """The documented guarantee: a row left in 'sending' may have reached the person -> 'unknown'."""
    core = make_core(sqlite_url, round_offsets=())
    await _seed(core)
    await _sweep(core, EXP - timedelta(days=210))
    await asyncio.to_thread(_crash, sqlite_url, "send")
    sender = RecordingSender()
    survivor = _worker(core, sender)
    assert await survivor.recover() == {"requeued": 0, "unknown": 1}
    await survivor.drain(timeout=5)
    await _sweep(core, EXP - timedelta(days=209))
    await survivor.drain(timeout=5)
    assert sender.sent == []
    assert await _reminders(core) == {next(iter(await _reminders(core))): "queued"}


async def test_blocked_user_is_marked_inactive_and_not_retried(db_url, make_core):
    core = make_core(db_url, round_offsets=())
    await _seed(core)
    from storage.models import CallListEntry
    await _sweep(core, EXP - timedelta(days=210))
    sender = RecordingSender(blocked={"alice"})
    await _worker(core, sender).drain(timeout=5)
    async with core.sessionmaker() as s:
        ident = await s.scalar(select(Identity))
        d = await s.scalar(select(Delivery))
    assert (ident.active, ident.inactive_reason, d.status, d.attempts) == (False, "blocked", "blocked", 1)
    res = await _sweep(core, EXP - timedelta(days=180))
    assert res.enqueued == 0 and res.call_listed == 1          # no route left: the officers call
    await _worker(core, sender).drain(timeout=5)
    assert sender.sent == []
    async with core.sessionmaker() as s:
        assert [c.reason for c in await s.scalars(select(CallListEntry).order_by(CallListEntry.id))] == [
            "blocked", "no_route"]


async def test_sweep_job_commits_and_wakes_the_worker(sqlite_url, make_core, today):
    core = make_core(sqlite_url, round_offsets=())
    await _seed(core)
    today.value = EXP - timedelta(days=125)
    worker = _worker(core, RecordingSender())
    core.services["worker"] = worker
    res = await sweep_job(core)
    assert res.enqueued == 1 and worker.wakeup.is_set()
    assert (await sweep_job(core)).enqueued == 0


async def test_two_concurrent_sweeps_and_workers_send_each_reminder_once(pg_url, make_settings):
    from core.app import Core
    settings = make_settings(pg_url, round_offsets=())
    engines = [make_engine(pg_url) for _ in range(2)]
    sms = [make_sessionmaker(e) for e in engines]
    try:
        async with sms[0]() as s, s.begin():
            for i in range(40):
                u = await add_user(s, f"user{i}")
                await add_cert(s, u.id, product=f"Sản phẩm {i}", decision=f"{i}/QĐ",
                               recognized=REC)
        sender = RecordingSender()

        async def one(sm, wid):
            for day in range(215, -3, -1):
                async with sm() as s, s.begin():
                    await sweep(s, settings, EXP - timedelta(days=day))
                w = DeliveryWorker(sm, Senders(console=sender), rate=10_000, per_chat_interval=0, worker_id=wid)
                await w.drain(timeout=5)
        await asyncio.gather(one(sms[0], "w1"), one(sms[1], "w2"))
        keys = [k for k in sender.sent]
        assert len(keys) == len(set(keys))
        async with sms[0]() as s:
            sent = list(await s.scalars(select(Delivery.key).where(Delivery.status == "sent")))
            queued = list(await s.scalars(select(Reminder.key).where(Reminder.status == "queued")))
        assert len(sent) == len(set(sent)) == len(queued) == len(sender.sent)
        # every certificate got its reminders, none twice (texts differ per product/offset)
        assert len({t for _c, t in sender.sent}) == len(sender.sent)
        assert len(sender.sent) == 40 * 5
    finally:
        for e in engines:
            await e.dispose()
    assert Core  # the Core import documents that these engines are what Core would build


async def test_reminder_button_opens_the_re_evaluation_dossier(sqlite_url, make_core):
    core = make_core(sqlite_url, round_offsets=())
    from tests.helpers import msg, texts
    await core.handle(msg("/start", user="alice"))
    r = await core.handle(msg(callback="d:start:reeval", user="alice"))
    assert "đánh giá lại" in texts(r).lower()


def test_sweep_is_scheduled_daily_at_reminder_time_and_at_start(monkeypatch):
    from core.config import load_settings
    from core.reminders import cron_from, sweep_job
    from handlers import build_router
    monkeypatch.setenv("REMINDER_TIME", "07:30")
    router = build_router()
    [job] = [j for j in router.jobs if j.name == "reminder_sweep"]      # one sweep for every feature
    assert (job.func, job.cron(load_settings()), job.run_at_start) == (sweep_job, {"hour": 7, "minute": 30}, True)
    assert [s.kind for s in router.reminder_sources] == ["cert", "round", "fair"]
    assert cron_from("25:99") == cron_from("x") == {"hour": 8, "minute": 0}
