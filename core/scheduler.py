"""APScheduler only wakes work registered by features (router.job); rows in the DB are the truth."""
from __future__ import annotations

import asyncio
import logging
import time

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("ocop.scheduler")


async def run_job(core, spec) -> bool:
    """Run one job: never raises; metrics per run; a failure opens an admin incident
    (job_failed:<name>, one message per incident), the next success resolves it."""
    from core.ops import alerts, metrics
    started = time.perf_counter()
    ok = True
    try:
        await spec.func(core)
    except Exception as exc:
        ok = False
        log.exception("job %s failed", spec.name)
        error = f"{type(exc).__name__}: {exc}"[:300]
    metrics.observe_job(spec.name, "ok" if ok else "failed", time.perf_counter() - started)
    try:
        if ok:
            await alerts.resolve(core.sessionmaker, "job_failed", spec.name)
        else:
            from core.templates import Markup, render
            await alerts.alert(core.sessionmaker, core.settings, "job_failed", spec.name,
                               Markup(render("ops/job_failed", job=spec.name, error=error)))
    except Exception:
        log.exception("could not record the outcome of job %s", spec.name)
    return ok


def build_scheduler(core) -> AsyncIOScheduler:
    sched = AsyncIOScheduler(timezone=core.settings.tz,
                             job_defaults={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1})
    for spec in core.router.jobs:
        async def job(spec=spec):
            await run_job(core, spec)
        if spec.interval:
            trigger = IntervalTrigger(seconds=spec.interval, timezone=core.settings.tz)
        else:
            cron = spec.cron(core.settings) if callable(spec.cron) else spec.cron
            trigger = CronTrigger(timezone=core.settings.tz, **cron)
        sched.add_job(job, trigger, id=spec.name, name=spec.name, replace_existing=True)
        if spec.run_at_start:
            asyncio.get_event_loop().create_task(job())
    return sched
