"""The one clock. Every "now" and "today" in the bot comes from here, never from datetime.now().

Production reads the system clock. Tests (and the processes they start) set a clock that begins
at a chosen instant and runs at real speed, so timeouts, leases and back-offs still elapse while
"today" stays the same date whatever the machine's date is. A process started with the
environment variable ``OCOP_CLOCK=2026-11-22T08:00:00+07:00`` starts its clock there.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Iterator


class Clock:
    """The system clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class StartedClock(Clock):
    """Starts at `start` and advances with the monotonic clock."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("the start of a clock needs a time zone")
        self.start = start.astimezone(timezone.utc)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


def _from_env() -> Clock:
    raw = os.environ.get("OCOP_CLOCK", "").strip()
    return StartedClock(datetime.fromisoformat(raw)) if raw else Clock()


_clock: Clock = _from_env()


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _clock.now()


def today(tz: tzinfo) -> date:
    """Today's date in the time zone `tz`."""
    return _clock.now().astimezone(tz).date()


def set_clock(clock: Clock) -> Clock:
    """Replace the clock; returns the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
