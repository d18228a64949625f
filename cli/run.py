"""`run` (default), `console`, `migrate`."""
from __future__ import annotations

import asyncio


def add(sub) -> None:
    p = sub.add_parser("run", help="start every configured channel, the scheduler and the delivery worker")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("console", help="chat with the bot in this terminal")
    p.set_defaults(func=cmd_console)
    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)


def cmd_run(args, settings) -> int:
    from core.runtime import run
    return asyncio.run(run(settings))


def cmd_console(args, settings) -> int:
    from core.runtime import run_console
    return asyncio.run(run_console(settings))


def cmd_migrate(args, settings) -> int:
    from storage.migrate import upgrade
    upgrade(settings.database_url)
    print("Database is up to date.")
    return 0
