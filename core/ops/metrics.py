"""Prometheus metrics (prometheus-client) of this process, plus figures read from the database at
scrape time (queue depth, oldest queued row, deliveries by status, open incidents).

Counters live in one registry of this module; the code paths that move them call the small helpers
below (Core.handle, the delivery worker, the Telegram transport, the scheduler). `/metrics` is
served by core/ops/http.py only when METRICS_TOKEN is set.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 (re-exported for the HTTP route)
from sqlalchemy import func, select

from storage.models import Delivery, Incident, utcnow

REGISTRY = CollectorRegistry()

UPDATES = Counter("ocop_updates", "Incoming updates handled, by channel and route",
                  ["channel", "route"], registry=REGISTRY)
REPLY_SECONDS = Histogram("ocop_reply_seconds", "Time to handle one incoming update and build the reply",
                          ["channel"], registry=REGISTRY,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
DELIVERIES = Counter("ocop_deliveries", "Delivery attempts recorded by the worker, by channel and outcome",
                     ["channel", "status"], registry=REGISTRY)
RATE_LIMITED = Counter("ocop_rate_limited", "429 / flood-control answers received from a channel API",
                       ["channel"], registry=REGISTRY)
SWEEPS = Counter("ocop_reminder_sweeps", "Reminder sweeps run, by job and outcome", ["job", "outcome"],
                 registry=REGISTRY)
SWEEP_SECONDS = Histogram("ocop_reminder_sweep_seconds", "Duration of reminder sweeps", ["job"],
                          registry=REGISTRY, buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300))
JOBS = Counter("ocop_job_runs", "Scheduled jobs run, by job and outcome", ["job", "outcome"], registry=REGISTRY)
ALERTS = Counter("ocop_alerts", "Incidents opened (admins notified), by kind", ["kind"], registry=REGISTRY)

# read from the database at scrape time
QUEUE_DEPTH = Gauge("ocop_queue_depth", "Delivery rows waiting to be sent (queued or claimed)", registry=REGISTRY)
QUEUE_OLDEST = Gauge("ocop_queue_oldest_age_seconds",
                     "How long the oldest due queued delivery row has waited (0 when none)", registry=REGISTRY)
DELIVERY_ROWS = Gauge("ocop_delivery_rows", "Rows of the deliveries table by status", ["status"], registry=REGISTRY)
INCIDENTS_OPEN = Gauge("ocop_incidents_open", "Open incidents (admin alerts)", registry=REGISTRY)

SWEEP_JOBS = ("reminder_sweep", "fair_reminders", "reminders")


def observe_update(channel: str, route: str, seconds: float) -> None:
    UPDATES.labels(channel or "?", route or "?").inc()
    REPLY_SECONDS.labels(channel or "?").observe(seconds)


def observe_delivery(channel: str, status: str) -> None:
    DELIVERIES.labels(channel or "?", status or "?").inc()


def rate_limited(channel: str) -> None:
    RATE_LIMITED.labels(channel).inc()


def is_sweep(job: str) -> bool:
    return job in SWEEP_JOBS or "remind" in job or "sweep" in job


def observe_job(job: str, outcome: str, seconds: float) -> None:
    JOBS.labels(job, outcome).inc()
    if is_sweep(job):
        SWEEPS.labels(job, outcome).inc()
        SWEEP_SECONDS.labels(job).observe(seconds)


def _aware(t):
    from datetime import timezone
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t


async def queue_figures(session) -> dict:
    """Queue depth, age of the oldest due queued row, rows by status (also used by the ops watch job)."""
    now = utcnow()
    by_status = {s: n for s, n in await session.execute(
        select(Delivery.status, func.count()).group_by(Delivery.status))}
    from delivery.outcome import NO_SENDER
    due_since = await session.scalar(select(func.min(Delivery.next_attempt_at)).where(
        Delivery.status == "queued", Delivery.next_attempt_at <= now))
    # a row no running process can send is put back a minute at a time: it waits since it was made
    unserved_since = await session.scalar(select(func.min(Delivery.created_at)).where(
        Delivery.status == "queued", Delivery.last_error.startswith(NO_SENDER, autoescape=True)))
    stamps = [_aware(t) for t in (due_since, unserved_since) if t is not None]
    oldest = min(stamps) if stamps else None
    due = await session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.status == "queued", (Delivery.next_attempt_at <= now)
        | Delivery.last_error.startswith(NO_SENDER, autoescape=True)))
    return {"by_status": by_status, "depth": by_status.get("queued", 0) + by_status.get("claimed", 0),
            "due": due or 0, "oldest_age": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0}


async def scrape(sessionmaker) -> bytes:
    """The Prometheus text exposition, database gauges refreshed first."""
    async with sessionmaker() as s:
        q = await queue_figures(s)
        incidents = await s.scalar(select(func.count()).select_from(Incident).where(Incident.status == "open"))
    QUEUE_DEPTH.set(q["depth"])
    QUEUE_OLDEST.set(q["oldest_age"])
    DELIVERY_ROWS.clear()
    for status, n in q["by_status"].items():
        DELIVERY_ROWS.labels(status).set(n)
    INCIDENTS_OPEN.set(incidents or 0)
    return generate_latest(REGISTRY)
