"""Shared fixtures: migrated SQLite and PostgreSQL databases, a Core with a fixed date."""
from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dbutil import Templates  # noqa: E402

os.environ.setdefault("TELEGRAM_BOT_TOKEN", "")


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


@pytest.fixture
def today():
    """A mutable 'today' used by make_core: today.value = date(...)."""
    class T:
        value = date(2026, 11, 22)
    return T


@pytest.fixture
async def make_core(make_settings, today):
    from core.app import Core
    made = []

    def make(url: str, **kw):
        core = Core(make_settings(url, **kw), today=lambda: today.value)
        made.append(core)
        return core
    yield make
    for c in made:
        await c.close()
