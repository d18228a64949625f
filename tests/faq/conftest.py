"""FAQ tests: every test starts from the YAML base (the installed overlay is process-wide)."""
from __future__ import annotations

import pytest

import core.faq as faq
from handlers.faq import repo
from tests.web.conftest import serve


@pytest.fixture(autouse=True)
def faq_base():
    faq.install(None, None)
    repo.forget_sync()
    yield
    faq.install(None, None)
    repo.forget_sync()


@pytest.fixture
async def console(db_url, make_core):
    async with serve(make_core(db_url, public_url="http://console.test", web_console=True)) as c:
        yield c


@pytest.fixture
async def sqlite_console(sqlite_url, make_core):
    async with serve(make_core(sqlite_url, public_url="http://console.test", web_console=True)) as c:
        yield c
