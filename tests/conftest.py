"""Shared fixtures: migrated SQLite and PostgreSQL databases, a Core with a fixed date."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import clock  # noqa: E402
from tests.dbutil import Templates  # noqa: E402
from tests.people import make_worker, sender  # noqa: E402,F401  (fixtures shared by officer features)

os.environ.setdefault("TELEGRAM_BOT_TOKEN", "")
# a Runtime serves the web console (and binds HTTP_PORT) by default; tests that want it turn it on
os.environ.setdefault("WEB_CONSOLE", "0")


@pytest.fixture(scope="session")
def db_templates(tmp_path_factory):
    t = Templates(tmp_path_factory.mktemp("db"))
    yield t
    t.cleanup()


@pytest.fixture
def sqlite_url(db_templates) -> str:
    return db_templates.sqlite()


@pytest.fixture
def pg_url(db_templates) -> str:
    """A fresh PostgreSQL database; fails (never skips) when the server is unreachable."""
    return db_templates.postgres()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, db_templates) -> str:
    """Runs the test on both databases."""
    return db_templates.sqlite() if request.param == "sqlite" else db_templates.postgres()


@pytest.fixture
def make_settings():
    from core.config import load_settings

    def make(url: str, **kw):
        kw.setdefault("telegram_token", "")
        kw.setdefault("admin_ids", frozenset({"telegram:1000", "console:admin"}))
        return load_settings(database_url=url, **kw)
    return make


TEST_START = datetime(2026, 11, 22, 8, 0, tzinfo=timezone(timedelta(hours=7)))


def _start_clock_at(start: datetime) -> None:
    """The one clock of this process, and of every process a test starts (OCOP_CLOCK)."""
    clock.set_clock(clock.StartedClock(start))
    os.environ["OCOP_CLOCK"] = start.isoformat()


_start_clock_at(TEST_START)


_popen_init = subprocess.Popen.__init__


def _popen_on_our_clock(self, *args, **kw):
    """A process a test starts (bot.py, a crashing worker, asyncio subprocesses) begins its clock at this
    process's *current* instant, not at the test's start: otherwise it lags behind the rows we just wrote."""
    now = clock.now().isoformat()
    if kw.get("env") is None:
        os.environ["OCOP_CLOCK"] = now
    else:
        kw["env"] = {**kw["env"], "OCOP_CLOCK": now}
    _popen_init(self, *args, **kw)


subprocess.Popen.__init__ = _popen_on_our_clock


class Today:
    """'Today' of a test. Setting `value` moves the clock to 08:00 (UTC+7) of that date."""

    def __init__(self):
        _start_clock_at(TEST_START)

    @property
    def value(self) -> date:
        return clock.today(timezone(timedelta(hours=7)))

    @value.setter
    def value(self, d: date) -> None:
        _start_clock_at(datetime(d.year, d.month, d.day, 8, 0, tzinfo=TEST_START.tzinfo))


@pytest.fixture(autouse=True)
def today():
    """Every test starts on 22/11/2026 08:00 (UTC+7), whatever the machine's date."""
    return Today()


@pytest.fixture
async def make_core(make_settings, today):
    from core.app import Core
    made = []

    def make(url: str, **kw):
        core = Core(make_settings(url, **kw))
        made.append(core)
        return core
    yield make
    for c in made:
        await c.close()
