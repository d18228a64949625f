"""Evaluation rounds: /dotdanhgia (upcoming rounds of my province) and /themdot (officers).

/themdot works in one line — "/themdot Đồng Tháp | Đợt 1 năm 2027 | 15/3/2027 | 1/4/2027 | Phòng
Kinh tế xã" (the last two parts optional, "-" to skip) — or as a guided flow stored in
`conversations`. Only officers of that province, national officers and admins may add rounds.
"""
from __future__ import annotations

from sqlalchemy import select

from core.permissions import officer_scope, province_id_of, province_name
from core.dates import DateError, parse_vn_date
from core.messages import Button, Incoming, Reply
from core.templates import label, validation
from core.text import fold
from handlers.rounds import reminders
from handlers.rounds.repo import check_round, create_round, find_round, parse_future, upcoming_rounds
from storage.models import Certificate, Subscription

FLOW = "themdot"
STEPS = ["province", "name", "deadline", "evaluation", "where"]
SKIP = [[Button(label("common.skip"), "r:skip")]]


async def user_province(ctx) -> str | None:
    """The user's province id: profile, then subscription, then their certificates."""
    for candidate in (ctx.user.province,
                      await ctx.session.scalar(select(Subscription.province).where(
                          Subscription.user_id == ctx.user.id)),
                      await ctx.session.scalar(select(Certificate.province).where(
                          Certificate.owner_user_id == ctx.user.id).limit(1))):
        if province_id_of(candidate):
            return province_id_of(candidate)
    return None


async def list_rounds(ctx, msg: Incoming = None):
    """/dotdanhgia [tỉnh]."""
    typed = msg.arg_text if msg is not None and msg.command else ""
    pid = province_id_of(typed) if typed else await user_province(ctx)
    rounds = await upcoming_rounds(ctx.session, pid, ctx.today())
    return ctx.reply("reminders/rounds_list", province=province_name(pid) or None, rounds=rounds, today=ctx.today())


def _ask(ctx, step: str, error: str | None = None) -> Reply:
    return ctx.reply("reminders/round_ask", SKIP if step in ("evaluation", "where") else [], step=step, error=error)


def _refused(ctx, province: str | None = None) -> Reply:
    return ctx.reply("reminders/round_refused", province=province)


async def _save(ctx, scope, province, name, deadline, evaluation, where):
    try:
        data = check_round(province, name, deadline, evaluation, where, ctx.today())
    except (DateError, ValueError) as exc:
        return None, str(exc)
    if not scope.allows(data.province):
        return _refused(ctx, province_name(data.province)), None
    existed = await find_round(ctx.session, data) is not None
    rnd = await create_round(ctx.session, data, ctx.user.id)
    offsets = ", ".join(str(o) for o in ctx.settings.round_offsets)
    return ctx.reply("reminders/round_saved", r=rnd, offsets=offsets, existed=existed), None


async def add_round(ctx, msg: Incoming):
    """/themdot (officers)."""
    scope = await officer_scope(ctx)
    if scope is None:
        return _refused(ctx)
    if msg.arg_text:
        parts = [p.strip() for p in msg.arg_text.split("|")]
        if len(parts) < 3:
            return _ask(ctx, "province", validation("rounds.at_least"))
        parts += [""] * (5 - len(parts))
        reply, error = await _save(ctx, scope, *parts[:5])
        return reply or ctx.reply("reminders/round_ask", step="", error=validation("rounds.not_added", error=error))
    data, step = {}, "province"
    if not scope.national and len(scope.provinces) == 1:
        data, step = {"province": next(iter(scope.provinces))}, "name"
    await ctx.set_flow(FLOW, step, data)
    return _ask(ctx, step)


async def on_text(ctx, msg: Incoming, skipped: bool = False):
    conv = await ctx.get_flow()
    step, data = conv.step, dict(conv.data or {})
    text = "" if skipped else msg.text.strip()
    if step in ("evaluation", "where") and fold(text) in ("-", "bo qua", "khong", "chua co"):
        text = ""
    try:
        if step == "province":
            if province_id_of(text) is None:
                raise ValueError(validation("rounds.province_unknown", value=text[:40]))
            text = province_id_of(text)
        elif step == "deadline":
            parse_future(text, ctx.today())
        elif step == "evaluation" and text:
            if parse_vn_date(text) < parse_vn_date(data["deadline"]):
                raise ValueError(validation("rounds.evaluation_before_deadline"))
        elif step == "name" and not 3 <= len(text) <= 200:
            raise ValueError(validation("rounds.name_length"))
    except (DateError, ValueError) as exc:
        return _ask(ctx, step, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    data[step] = text
    if step != "where":
        nxt = STEPS[STEPS.index(step) + 1]
        await ctx.set_flow(FLOW, nxt, data)
        return _ask(ctx, nxt)
    scope = await officer_scope(ctx)
    if scope is None:                        # the role was revoked meanwhile
        await ctx.clear_flow()
        return _refused(ctx)
    reply, error = await _save(ctx, scope, data.get("province"), data.get("name"), data.get("deadline"),
                               data.get("evaluation"), data.get("where"))
    if error:
        await ctx.set_flow(FLOW, "deadline", data)
        return _ask(ctx, "deadline", validation("rounds.not_added", error=error))
    await ctx.clear_flow()
    return reply


async def on_callback(ctx, msg: Incoming):
    action = msg.callback.split(":", 1)[1]
    if action == "skip":
        conv = await ctx.get_flow()
        if conv is None or conv.flow != FLOW or conv.step not in ("evaluation", "where"):
            return ctx.reply("errors/stale_button")
        return await on_text(ctx, msg, skipped=True)
    return await list_rounds(ctx)


def register(router) -> None:
    router.command("dotdanhgia", list_rounds, "Các đợt đánh giá OCOP sắp tới")
    router.command("themdot", add_round)
    router.flow(FLOW, on_text)
    router.callback("r", on_callback)
    router.reminder(reminders.SOURCE)
