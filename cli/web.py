"""The officers' web console from the command line:

    python bot.py web                              serve /quantri/ with the delivery worker and scheduler
    python bot.py web-login --user telegram:<id>   print a one-time sign-in link for an officer or admin
"""
from __future__ import annotations

import asyncio
import sys

from storage.db import database


def add(sub) -> None:
    p = sub.add_parser("web", help="serve the officers' web console (no chat channel)")
    p.set_defaults(func=cmd_web)
    p = sub.add_parser("web-login", help="print a one-time sign-in link to the web console")
    p.add_argument("--user", required=True, help="telegram:<id> or zalo:<id> of an officer or admin")
    p.set_defaults(func=cmd_web_login)


def cmd_web(args, settings) -> int:
    from core.runtime import run_web
    return asyncio.run(run_web(settings))


def cmd_web_login(args, settings) -> int:
    return asyncio.run(_web_login(args.user.strip(), settings))


async def _web_login(key: str, settings) -> int:
    from core.web.auth import create_login_token, login_url, user_by_identity, viewer_for
    async with database(settings.database_url) as sm:
        async with sm() as s:
            user_id = await user_by_identity(s, key)
            viewer = await viewer_for(s, settings, user_id) if user_id else None
            if viewer is None:
                print(f"{key}: không phải cán bộ hay quản trị viên đã dùng bot — không tạo liên kết. "
                      "(Người này cần nhắn bot ít nhất một lần và được cấp quyền.)", file=sys.stderr)
                return 1
            token = await create_login_token(s, user_id)
            await s.commit()
    print(login_url(settings, token))
    print("Liên kết dùng một lần, trong 10 phút.", file=sys.stderr)
    return 0
