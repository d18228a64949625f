"""/start (with deep-link payloads), the main menu, /help, /huy and unknown commands."""
from __future__ import annotations

import re

from core.context import Ctx
from core.messages import Button, Incoming, Reply

PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def menu_buttons(router) -> list[list[Button]]:
    items = list(router.menu.values())
    return [[Button(i.label, f"m:{i.key}")] for i in items]


async def start(ctx: Ctx, msg: Incoming):
    """Greet, remember a deep-link payload and route it to its feature."""
    replies = []
    payload = msg.args[0] if msg.args else ""
    if payload and PAYLOAD_RE.match(payload):
        ctx.user.start_payload = payload
        prefix, sep, rest = payload.partition("_")
        handler = ctx.router.deeplinks.get(prefix.lower())
        if handler is not None and not (sep and not rest.strip("_-")):   # "claim_" lost its code: greet
            routed = await handler(ctx, msg)
            if routed:
                return routed
    await ctx.clear_flow()
    replies.append(Reply(ctx.render("start", name=ctx.user.display_name or ""), menu_buttons(ctx.router)))
    return replies


async def show_menu(ctx: Ctx, msg: Incoming):
    """/menu: the main menu again."""
    return Reply(ctx.render("menu"), menu_buttons(ctx.router))


async def help_(ctx: Ctx, msg: Incoming):
    """/help and /huongdan: what the bot can do."""
    r = ctx.router
    cmds = [(name, text) for name, text in r.command_help.items()]
    return Reply(ctx.render("help", commands=cmds), menu_buttons(r))


async def cancel(ctx: Ctx, msg: Incoming):
    """/huy and /cancel: leave whatever flow the user is in."""
    conv = await ctx.get_flow()
    kept = conv is not None and conv.flow in ctx.router.kept_flows
    left = await ctx.clear_flow() and conv.flow in ctx.router.flows   # not a finished flow's marker
    return Reply(ctx.render("cancelled", left=left, kept=kept), menu_buttons(ctx.router))


async def menu_tap(ctx: Ctx, msg: Incoming):
    """A tap on a main-menu button (callback m:<key>)."""
    key = msg.callback.split(":", 1)[1]
    item = ctx.router.menu.get(key)
    if item is None:
        return Reply(ctx.render("errors/stale_button"), menu_buttons(ctx.router))
    if item.handler is None:
        return Reply(ctx.render("not_ready", label=item.label), menu_buttons(ctx.router))
    await ctx.clear_flow()      # a menu tap leaves the step in progress: what is typed next belongs to the new item
    return await item.handler(ctx, msg)


async def not_a_question(ctx: Ctx, msg: Incoming):
    """A bare number or date typed while no step asked for one."""
    return Reply(ctx.render("errors/not_a_question", text=msg.text[:20]), menu_buttons(ctx.router))


async def unknown_command(ctx: Ctx, msg: Incoming):
    """Any /command nobody registered."""
    return Reply(ctx.render("errors/unknown_command", command=msg.command[:32]), menu_buttons(ctx.router))


async def forget_old_events(core) -> None:
    """Update ids are remembered a week (storage.group_commit): then forgotten."""
    from storage.group_commit import forget_events
    await forget_events(core.engine)


def register(router) -> None:
    router.command("start", start, "Bắt đầu, xem menu chính", keeps_flow=True)
    router.command(["help", "huongdan"], help_, "Bot làm được gì", keeps_flow=True)
    router.command("menu", show_menu, keeps_flow=True)
    router.command(["huy", "cancel"], cancel, "Thoát khỏi bước đang làm", keeps_flow=True)
    router.callback("m", menu_tap)
    router.unknown_command = unknown_command
    router.not_a_question = not_a_question
    router.job("forget_events", forget_old_events, interval=6 * 3600)   # housekeeping of processed_events
