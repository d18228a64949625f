"""/dangky: choose province, product groups and topics; /huydangky and /stop opt out at once."""
from __future__ import annotations

from core.context import Ctx
from core.messages import Button, Incoming
from core.templates import label
from core.reference import all_groups, all_provinces, match_province, province_by_id
from handlers.broadcast.segments import TOPICS, TOPIC_NAMES
from core.permissions import callback_parts
from storage.models import Subscription, utcnow

FLOW = "dangky"


def province_buttons(prefix: str) -> list[list[Button]]:
    provs = all_provinces()
    flat = [Button(p.name, f"{prefix}{p.id}") for p in provs]
    return [flat[i:i + 2] for i in range(0, len(flat), 2)]


def toggle_buttons(items, chosen, prefix: str, done: str) -> list[list[Button]]:
    rows = [[Button(("☑ " if key in chosen else "☐ ") + text, f"{prefix}{key}")] for key, text in items]
    rows.append([Button(label("common.done"), done)])
    return rows


def group_items():
    return [(g.id, g.name) for g in all_groups()]


async def start(ctx: Ctx, msg: Incoming):
    """/dangky and the menu key: step 1, the province."""
    sub = await ctx.session.get(Subscription, ctx.user.id)
    data = {"groups": list(sub.groups or []) if sub else [],
            "topics": list(sub.topics) if sub and sub.topics else [t for t, _ in TOPICS]}
    await ctx.set_flow(FLOW, "province", data)
    return ctx.reply("subscriptions/ask_province", province_buttons("sub:p:"))


async def on_text(ctx: Ctx, msg: Incoming):
    """Text while in the flow: a typed province name (old names are mapped, with a note)."""
    conv = await ctx.get_flow()
    if conv.step != "province":
        return ctx.reply("subscriptions/use_buttons")
    m = match_province(msg.text)
    if m is None:
        return ctx.reply("subscriptions/bad_province", province_buttons("sub:p:"), text=msg.text[:60])
    return await _province_chosen(ctx, conv, m.province.id, m.note)


async def _province_chosen(ctx: Ctx, conv, pid: str, note: str = ""):
    data = dict(conv.data, province=pid)
    await ctx.set_flow(FLOW, "groups", data)
    return ctx.reply("subscriptions/ask_groups", toggle_buttons(group_items(), data["groups"], "sub:g:", "sub:gd"),
                     province=province_by_id(pid).name, note=note)


async def on_button(ctx: Ctx, msg: Incoming):
    """Buttons of the flow: sub:p:<province>, sub:g:<group>, sub:gd, sub:t:<topic>, sub:td."""
    conv = await ctx.get_flow()
    if conv is None:
        return await start(ctx, msg)
    if conv.flow != FLOW:       # an old /dangky message: keep the flow the user is in now
        return ctx.reply("errors/stale_button", [[Button(label("subscriptions.subscribe"), "m:dangky")]])
    action, arg = callback_parts(msg.callback)
    data = dict(conv.data)
    if action == "p" and province_by_id(arg):
        return await _province_chosen(ctx, conv, arg)
    if not data.get("province"):    # groups / topics before a province: ask for the province again
        return ctx.reply("subscriptions/ask_province", province_buttons("sub:p:"))
    if action == "g" and arg in dict(group_items()):
        data["groups"] = _toggle(data.get("groups", []), arg)
        await ctx.set_flow(FLOW, "groups", data)
        return ctx.reply("subscriptions/ask_groups",
                         toggle_buttons(group_items(), data["groups"], "sub:g:", "sub:gd"),
                         province=province_by_id(data["province"]).name, note="")
    if action == "gd" and data.get("province"):
        await ctx.set_flow(FLOW, "topics", data)
        return ctx.reply("subscriptions/ask_topics", toggle_buttons(TOPICS, data["topics"], "sub:t:", "sub:td"))
    if action == "t" and arg in TOPIC_NAMES:
        data["topics"] = _toggle(data.get("topics", []), arg)
        await ctx.set_flow(FLOW, "topics", data)
        return ctx.reply("subscriptions/ask_topics", toggle_buttons(TOPICS, data["topics"], "sub:t:", "sub:td"))
    if action == "td" and data.get("province"):
        return await _save(ctx, data)
    return ctx.reply("errors/stale_button")


def _toggle(values: list, key: str) -> list:
    return [v for v in values if v != key] if key in values else values + [key]


async def _save(ctx: Ctx, data: dict):
    sub = await ctx.session.get(Subscription, ctx.user.id)
    if sub is None:
        sub = Subscription(user_id=ctx.user.id)
        ctx.session.add(sub)
    sub.province, sub.groups, sub.topics, sub.active = data["province"], data["groups"], data["topics"], True
    sub.updated_at = utcnow()
    ctx.user.province = data["province"]
    ctx.user.opted_out = False
    await ctx.clear_flow()
    groups = [name for gid, name in group_items() if gid in data["groups"]]
    return ctx.reply("subscriptions/saved", province=province_by_id(data["province"]).name,
                     groups=groups, topics=[TOPIC_NAMES[t] for t in data["topics"]])


async def opt_out(ctx: Ctx, msg: Incoming):
    """/huydangky and /stop: no more broadcasts or topic news, at once; no more ZNS to their phone."""
    from handlers.reach.consent import opt_out_user
    ctx.user.opted_out = True
    await opt_out_user(ctx.session, ctx.user)
    sub = await ctx.session.get(Subscription, ctx.user.id)
    if sub is not None:
        sub.active = False
        sub.updated_at = utcnow()
    conv = await ctx.get_flow()
    if conv is not None and conv.flow == FLOW:
        await ctx.clear_flow()
    return ctx.reply("subscriptions/opted_out")


def register(router) -> None:
    router.command("dangky", start, "Đăng ký nhận tin hội chợ, đợt đánh giá, tập huấn")
    router.command(["huydangky", "stop"], opt_out, "Ngừng nhận thông báo")
    router.callback("sub", on_button)
    router.flow(FLOW, on_text)
    router.menu_handler("dangky", start)
