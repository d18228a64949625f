"""FAQ tests: every test starts from the YAML base (the installed overlay is process-wide)."""
from __future__ import annotations

import pytest

import core.faq as faq
from handlers.faq import repo
from tests.web.conftest import console, sqlite_console  # noqa: F401 (the signed-out console fixtures)


@pytest.fixture(autouse=True)
def faq_base():
    faq.install(None, None)
    repo.forget_sync()
    yield
    faq.install(None, None)
    repo.forget_sync()
