#!/usr/bin/env python3
"""OCOP producer assistant — entry point. Only wiring: parse the command, load settings, dispatch.

    python bot.py [run]          start the bot (Telegram / Zalo / console fallback)
    python bot.py console        chat in the terminal
    python bot.py ask "câu hỏi"  answer one question (--json)
    python bot.py migrate        apply database migrations
    python bot.py --help         every command
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib import import_module

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def build_parser() -> argparse.ArgumentParser:
    from cli import MODULES
    parser = argparse.ArgumentParser(prog="bot.py", description="OCOP producer assistant")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    for name in MODULES:
        import_module(name).add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "apscheduler", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command not in (None, "run") and not args.verbose:
        logging.getLogger("ocop").setLevel(logging.WARNING)   # keep the terminal for the conversation
    from core.config import load_settings
    settings = load_settings()
    from core.ops.logs import log_to_file
    log_to_file(settings.log_file)          # LOG_FILE: JSON lines, rotated by deploy/logrotate
    if args.command is None:
        args = parser.parse_args(["run"])
    return int(args.func(args, settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
