"""Apply Alembic migrations programmatically (`python bot.py migrate`, start-up, tests)."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Upgrade to the newest revision. Safe to call with or without a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(url), revision)
        return
    # env.py uses asyncio.run(); run it in a separate thread when a loop is already running
    errors: list[BaseException] = []

    def target():
        try:
            command.upgrade(alembic_config(url), revision)
        except BaseException as exc:  # pragma: no cover - re-raised below
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(url), "heads")
