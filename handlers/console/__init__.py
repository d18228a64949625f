"""The officers' web console: the /quantri chat command (one-time sign-in link) and the console pages
(overview, register, product page, import, report — modules beside this one; the web layer is
core/web/)."""
from __future__ import annotations

from core.context import Ctx
from core.messages import Incoming, Reply
from core.web.auth import create_login_token, login_url, viewer_for


async def quantri(ctx: Ctx, msg: Incoming):
    """/quantri: an officer or admin gets a sign-in link (10 minutes, single use, no link preview)."""
    viewer = await viewer_for(ctx.session, ctx.settings, ctx.user.id)
    if viewer is None:
        return ctx.reply("officer/not_allowed")
    if not ctx.settings.web_console:
        return ctx.reply("console/web_off")
    token = await create_login_token(ctx.session, ctx.user.id)
    return Reply(ctx.render("console/login_link", url=login_url(ctx.settings, token)), no_preview=True)


def register(router) -> None:
    router.command("quantri", quantri)
