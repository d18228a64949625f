"""APScheduler only wakes registered work, in the configured time zone, with a misfire grace time."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.router import Router
from core.scheduler import build_scheduler


class FakeCore:
    def __init__(self, settings, router):
        self.settings, self.router = settings, router


async def test_cron_job_runs_at_local_time_with_grace(make_settings, sqlite_url):
    calls = []

    async def sweep(core):
        calls.append(core)
    r = Router()
    r.job("reminder_sweep", sweep, cron={"hour": 8, "minute": 0}, run_at_start=True)
    r.job("every_minute", sweep, interval=60)
    core = FakeCore(make_settings(sqlite_url), r)
    sched = build_scheduler(core)
    sched.start(paused=True)
    try:
        job = sched.get_job("reminder_sweep")
        nxt = job.trigger.get_next_fire_time(None, datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
        assert nxt == datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
        assert job.misfire_grace_time == 3600 and job.coalesce is True
        assert sched.get_job("every_minute") is not None
    finally:
        sched.shutdown(wait=False)
    import asyncio
    await asyncio.sleep(0.05)
    assert calls == [core]          # run_at_start ran once


def test_duplicate_command_is_refused():
    r = Router()

    async def h(ctx, m):
        return None
    r.command("a", h)
    with pytest.raises(ValueError):
        r.command("a", h)
