"""/thongbao: an officer composes a broadcast, picks the segment, previews, tests, sends or schedules.

Flow "thongbao" steps: text -> (segment screen, buttons) -> exp (typed date) / when (typed time).
Buttons "bc:…": seg, all, pv/p:<id>, gr/g:<id>, st/s:<n>, tp/t:<id>, ex, pre, test, now, sch, x,
cancel:<id>, csv:<id>.
"""
from __future__ import annotations

from sqlalchemy import select

from handlers.broadcast import sending, templates
from handlers.broadcast.progress import Progress
from handlers.broadcast.segments import TOPIC_NAMES, TOPICS, describe, effective_provinces
from handlers.broadcast.when import MAX_AHEAD, parse_date, parse_datetime
from core.context import Ctx
from core.messages import Button, Incoming, OutFile, Reply
from core.templates import label
from core.text import parse_id
from core.reference import all_groups, group_by_id, province_by_id
from core.permissions import (callback_parts, province_name, refuse_province, require_officer,
                                  officer_flow, scope_or_refusal)
from storage.models import Broadcast, utcnow

FLOW = "thongbao"
STARS = [(str(n), f"{n} sao") for n in (3, 4, 5)]


def _toggles(items, chosen, prefix, back="bc:seg"):
    rows = [[Button(("☑ " if k in chosen else "☐ ") + text, f"{prefix}{k}")] for k, text in items]
    return rows + [[Button(label("common.done"), back)]]


def _segment_buttons(scope) -> list[list[Button]]:
    rows = [[Button(label("broadcast.everyone"), "bc:all")]]
    if scope.national or len(scope.provinces) > 1:
        rows.append([Button(label("broadcast.by_province"), "bc:pv")])
    rows += [[Button(label("broadcast.groups"), "bc:gr"), Button(label("broadcast.stars"), "bc:st")],
             [Button(label("broadcast.topic"), "bc:tp")],
             [Button(label("broadcast.expiring"), "bc:ex")],
             [Button(label("broadcast.preview"), "bc:pre")], [Button(label("common.drop"), "bc:x")]]
    return rows


async def _segment_screen(ctx: Ctx, data: dict, scope):
    seg = data.get("seg", {})
    count = len(await sending.recipients(ctx.session, seg, scope))
    return ctx.reply("broadcast/segment", _segment_buttons(scope), segment=describe(_shown(seg, scope)), count=count,
                     scope=scope.label())


def _shown(seg: dict, scope) -> dict:
    return dict(seg, provinces=effective_provinces(seg, scope))


async def compose(ctx: Ctx, msg: Incoming):
    """/thongbao: list running/scheduled broadcasts (with cancel) and start composing."""
    if deny := await require_officer(ctx):
        return deny
    await ctx.set_flow(FLOW, "text", {"seg": {}})
    mine = list(await ctx.session.scalars(select(Broadcast).where(
        Broadcast.status.in_(("scheduled", "running")), Broadcast.created_by == ctx.user.id)
        .order_by(Broadcast.id.desc()).limit(5)))
    replies = []
    if mine:
        rows = [[Button(label("broadcast.cancel_short", id=b.id), f"bc:cancel:{b.id}")] for b in mine]
        replies.append(ctx.reply("broadcast/active", rows, items=mine))
    replies.append(ctx.reply("broadcast/ask_text", placeholders=templates.PLACEHOLDERS))
    return replies


async def on_text(ctx: Ctx, msg: Incoming):
    """Text in the flow: the message itself, a date for the expiry filter, or the send time."""
    scope, conv, refusal = await officer_flow(ctx)
    if refusal:
        return refusal
    data = dict(conv.data)
    if conv.step == "text":
        checked = templates.check(msg.text)
        if not checked.ok:
            return ctx.reply("broadcast/refused", errors=checked.errors)
        data["text"] = msg.text
        await ctx.set_flow(FLOW, "segment", data)
        return await _segment_screen(ctx, data, scope)
    if conv.step == "exp":
        d = parse_date(msg.text, ctx.today())
        if d is None:
            return ctx.reply("broadcast/bad_date")
        data["seg"] = dict(data.get("seg", {}), expiring_before=d.isoformat())
        await ctx.set_flow(FLOW, "segment", data)
        return await _segment_screen(ctx, data, scope)
    if conv.step == "when":
        when = parse_datetime(msg.text, ctx.today(), ctx.settings.tz)
        if when is None or when <= utcnow() or when > utcnow() + MAX_AHEAD:
            return ctx.reply("broadcast/bad_time")
        return await _send(ctx, data, scope, when)
    return ctx.reply("subscriptions/use_buttons")


async def on_button(ctx: Ctx, msg: Incoming):
    """All bc:… buttons."""
    scope, refusal = await scope_or_refusal(ctx)
    if refusal:
        return refusal
    action, arg = callback_parts(msg.callback)
    if action == "cancel":
        return await _cancel(ctx, parse_id(arg) or 0, scope)
    if action == "csv":
        return await _csv(ctx, parse_id(arg) or 0, scope)
    conv = await ctx.get_flow()
    if conv is None or conv.flow != FLOW or "text" not in conv.data:
        return ctx.reply("broadcast/expired")
    data = dict(conv.data)
    seg = dict(data.get("seg", {}))
    if action == "x":
        await ctx.clear_flow()
        return ctx.reply("broadcast/dropped")
    if action == "p":
        if not scope.allows(arg) or not province_by_id(arg):
            return refuse_province(arg)
        seg["provinces"] = _flip(seg.get("provinces", []), arg)
    elif action == "g" and group_by_id(arg):
        seg["groups"] = _flip(seg.get("groups", []), arg)
    elif action == "s" and arg in ("3", "4", "5"):
        seg["stars"] = _flip(seg.get("stars", []), int(arg))
    elif action == "t" and arg in TOPIC_NAMES:
        seg["topic"] = None if seg.get("topic") == arg else arg
    elif action == "all":
        seg = {}
    elif action == "ex":
        await ctx.set_flow(FLOW, "exp", data)
        return ctx.reply("broadcast/ask_date")
    elif action == "sch":
        await ctx.set_flow(FLOW, "when", data)
        return ctx.reply("broadcast/ask_time")
    data["seg"] = {k: v for k, v in seg.items() if v}
    await ctx.set_flow(FLOW, "segment", data)
    return await _screen_for(ctx, action, data, scope)


def _flip(values: list, v) -> list:
    return [x for x in values if x != v] if v in values else values + [v]


async def _screen_for(ctx: Ctx, action: str, data: dict, scope):
    seg = data["seg"]
    if action in ("pv", "p"):
        provs = [p for p in (province_by_id(pid) for pid in sorted(scope.provinces)) if p] \
            if not scope.national else [province_by_id(p.id) for p in _all_provinces()]
        return ctx.reply("broadcast/pick",
                         _toggles([(p.id, p.name) for p in provs], seg.get("provinces", []), "bc:p:"), what="tỉnh")
    if action in ("gr", "g"):
        return ctx.reply("broadcast/pick",
                         _toggles([(g.id, g.name) for g in all_groups()], seg.get("groups", []), "bc:g:"),
                         what="nhóm sản phẩm")
    if action in ("st", "s"):
        return ctx.reply("broadcast/pick", _toggles(STARS, [str(s) for s in seg.get("stars", [])], "bc:s:"),
                         what="hạng sao (theo GCN)")
    if action in ("tp", "t"):
        return ctx.reply("broadcast/pick", _toggles(TOPICS, [seg.get("topic")], "bc:t:"), what="chủ đề")
    if action == "pre":
        return await _preview(ctx, data, scope)
    if action == "test":
        return await _test(ctx, data)
    if action == "now":
        return await _send(ctx, data, scope, None)
    return await _segment_screen(ctx, data, scope)


def _all_provinces():
    from core.reference import all_provinces
    return all_provinces()


async def _preview(ctx: Ctx, data: dict, scope):
    prep = await sending.prepare(ctx.session, data["text"], data["seg"], scope)
    sample = prep.recipients[0] if prep.recipients else None
    text = templates.render_message(data["text"], sending.values_of(sample)) if sample and not prep.errors else ""
    buttons = [[Button(label("broadcast.test"), "bc:test")],
               [Button(label("broadcast.send_now"), "bc:now"), Button(label("broadcast.schedule"), "bc:sch")],
               [Button(label("broadcast.edit_segment"), "bc:seg"), Button(label("common.drop"), "bc:x")]]
    if prep.errors or not prep.recipients:
        buttons = buttons[2:]
    return ctx.reply("broadcast/preview", buttons, count=len(prep.recipients), errors=prep.errors,
                     segment=describe(_shown(data["seg"], scope)), sample=text,
                     sample_name=sample.name if sample else "")


async def _test(ctx: Ctx, data: dict):
    """'Gửi thử cho tôi': the message as the officer would receive it (as a direct reply)."""
    values = {"ten": ctx.user.display_name or "", "tinh": province_name(ctx.user.province) if ctx.user.province else ""}
    checked = templates.check(data["text"])
    missing = templates.missing_values(checked, values)
    for p in missing:
        values[p] = f"[{templates.PLACEHOLDERS[p]}]"
    return [Reply(templates.render_message(data["text"], values)),
            ctx.reply("broadcast/test_sent", [[Button(label("broadcast.send_now"), "bc:now"),
                                               Button(label("broadcast.schedule"), "bc:sch")]], missing=missing)]


async def _send(ctx: Ctx, data: dict, scope, when):
    seg = data["seg"]
    if not scope.allows_all(seg.get("provinces", [])):
        return refuse_province(next(p for p in seg["provinces"] if not scope.allows(p)))
    bc, errors = await sending.create(ctx.session, actor_user_id=ctx.user.id, text=data["text"],
                                      segment=_shown(seg, scope), scope=scope, scheduled_at=when,
                                      progress_identity=ctx.identity)
    if errors:
        return ctx.reply("broadcast/refused", errors=errors)
    await ctx.clear_flow()
    local = when.astimezone(ctx.settings.tz) if when else None
    return ctx.reply("broadcast/started", [[Button(label("broadcast.cancel", id=bc.id), f"bc:cancel:{bc.id}")]],
                     id=bc.id, total=bc.total, when=local)


async def _may_manage(ctx: Ctx, bc: Broadcast | None, scope) -> bool:
    return bc is not None and (bc.created_by == ctx.user.id or scope.national)


async def _cancel(ctx: Ctx, bid: int, scope):
    bc = await ctx.session.get(Broadcast, bid)
    if not await _may_manage(ctx, bc, scope):
        return ctx.reply("broadcast/not_yours")
    if bc.status not in sending.ACTIVE:
        return ctx.reply("broadcast/not_active", id=bc.id, status=bc.status)
    n = await sending.cancel(ctx.session, bc, ctx.user.id)
    return ctx.reply("broadcast/cancelled", id=bc.id, n=n)


async def _csv(ctx: Ctx, bid: int, scope):
    bc = await ctx.session.get(Broadcast, bid)
    if not await _may_manage(ctx, bc, scope):
        return ctx.reply("broadcast/not_yours")
    content = await sending.failures_csv(ctx.session, bid)
    return ctx.reply("broadcast/csv", file=OutFile(f"thong-bao-{bid}-loi.csv", content, "text/csv"), id=bid)


async def attach_progress(core, worker) -> None:
    """At start-up: the worker edits progress messages and finishes broadcasts after each batch."""
    progress = Progress(core.sessionmaker, worker.senders)
    core.services["broadcast_progress"] = progress
    worker.after_batch.append(progress.tick)


async def progress_job(core) -> None:
    progress = core.services.get("broadcast_progress")
    if progress is not None:
        await progress.tick()


def register(router) -> None:
    router.command("thongbao", compose)
    router.callback("bc", on_button)
    router.flow(FLOW, on_text)
    router.on_startup(attach_progress)
    router.job("broadcast_progress", progress_job, interval=30)
