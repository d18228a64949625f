"""APScheduler only wakes work registered by features (router.job); rows in the DB are the truth."""
from __future__ import annotations

import asyncio
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("ocop.scheduler")


def build_scheduler(core) -> AsyncIOScheduler:
    sched = AsyncIOScheduler(timezone=core.settings.tz,
                             job_defaults={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1})
    for spec in core.router.jobs:
        async def job(spec=spec):
            try:
                await spec.func(core)
            except Exception:
                log.exception("job %s failed", spec.name)
        if spec.interval:
            trigger = IntervalTrigger(seconds=spec.interval, timezone=core.settings.tz)
        else:
            cron = spec.cron(core.settings) if callable(spec.cron) else spec.cron
            trigger = CronTrigger(timezone=core.settings.tz, **cron)
        sched.add_job(job, trigger, id=spec.name, name=spec.name, replace_existing=True)
        if spec.run_at_start:
            asyncio.get_event_loop().create_task(job())
    return sched
