"""Add a certified product: a 7-step guided flow, progress stored per step in `conversations`.

Steps: name -> group (buttons) -> stars (buttons) -> decision -> authority (buttons) -> province ->
date. Any step survives a restart (Conversation.data); wrong input re-asks the same step politely.
Callbacks "pa:<kind>:<value>" are accepted only while the user is at the matching step.
"""
from __future__ import annotations

from datetime import date

from handlers.products import fields
from handlers.products.repo import find_by_register_key, view
from core.dates import expiry_date
from core.messages import Button, Incoming, Reply
from core.templates import label, validation
from core.reference import all_groups, province_by_id
from storage.models import Certificate, utcnow

FLOW = "sanpham"
STEPS = ["name", "group", "stars", "decision", "authority", "province", "date"]
BUTTON_STEP = {"g": "group", "s": "stars", "a": "authority", "p": "province"}
# 3★ certificates issued by a UBND huyện before 6/7/2025 (QĐ 148) stay valid until they expire (QĐ 26/2026 Điều 12)
AUTHORITIES = ("province", "ministry", "district")
CANCEL = [Button(label("products.quit"), "pa:x")]


def group_buttons(prefix: str) -> list[list[Button]]:
    return [[Button(g.name, f"{prefix}{g.id}")] for g in all_groups()]


def star_buttons(prefix: str) -> list[list[Button]]:
    return [[Button(label("products.stars", n=n), f"{prefix}{n}") for n in (3, 4, 5)]]


def offsets_text(settings) -> str:
    return ", ".join(str(o) for o in settings.expiry_offsets if o) + " ngày và đúng ngày hết hạn"


def _ask(ctx, step: str, error: str | None = None) -> Reply:
    buttons: list[list[Button]] = []
    if step == "group":
        buttons = group_buttons("pa:g:")
    elif step == "stars":
        buttons = star_buttons("pa:s:")
    elif step == "authority":
        buttons = [[Button(label("products.authority_province"), "pa:a:province")],
                   [Button(label("products.authority_ministry"), "pa:a:ministry")],
                   [Button(label("products.authority_district"), "pa:a:district")]]
    elif step == "province" and ctx.user.province:
        p = province_by_id(ctx.user.province)
        if p:
            buttons = [[Button(p.name, f"pa:p:{p.id}")]]
    return ctx.reply("products/ask", buttons + [CANCEL], step=step, error=error)


async def start(ctx, msg: Incoming):
    await ctx.set_flow(FLOW, "name", {})
    return _ask(ctx, "name")


def _check(step: str, text: str, today: date):
    if step == "name":
        return fields.check_name(text)
    if step == "group":
        return fields.check_group(text)
    if step == "stars":
        return fields.check_stars(text)
    if step == "decision":
        return fields.check_decision(text)
    if step == "authority":
        return None, validation("products.authority_button")
    if step == "province":
        return fields.check_province(text)
    return fields.check_date(text, today)


async def on_text(ctx, msg: Incoming):
    conv = await ctx.get_flow()
    step = conv.step if conv.step in STEPS else "name"
    value, error = _check(step, msg.text, ctx.today())
    if error:
        return _ask(ctx, step, error)
    return await _advance(ctx, dict(conv.data or {}), step, value)


async def on_callback(ctx, msg: Incoming):
    parts = msg.callback.split(":", 2)
    kind = parts[1] if len(parts) > 1 else ""
    conv = await ctx.get_flow()
    if conv is None or conv.flow != FLOW:
        return ctx.reply("errors/stale_button")
    if kind == "x":
        await ctx.clear_flow()
        return ctx.reply("cancelled", [[Button(label("common.my_products"), "p:list")]], left=True, kept=False)
    step, raw = BUTTON_STEP.get(kind), parts[2] if len(parts) > 2 else ""
    if step is None or conv.step != step:
        return _ask(ctx, conv.step if conv.step in STEPS else "name")
    if step == "authority":
        value = raw if raw in AUTHORITIES else None
    elif step == "province":
        p = province_by_id(raw)
        value = (p.id, "") if p else None
    else:
        value, _err = _check(step, raw, ctx.today())
    if value is None:
        return _ask(ctx, step)
    return await _advance(ctx, dict(conv.data or {}), step, value)


async def _advance(ctx, data: dict, step: str, value):
    if step == "province":
        data["province"], data["note"] = value
    elif step == "date":
        return await _save(ctx, data, value)
    else:
        data[step] = value
    nxt = STEPS[STEPS.index(step) + 1]
    await ctx.set_flow(FLOW, nxt, data)
    return _ask(ctx, nxt)


async def _save(ctx, data: dict, recognized: date):
    await ctx.clear_flow()
    dup = await find_by_register_key(ctx.session, data["province"], data["decision"], data["name"])
    if dup is not None:
        return ctx.reply("products/duplicate",
                         [[Button(label("common.my_products"), "p:list"), Button(label("products.claim"), "pc:menu")]],
                         own=dup.owner_user_id == ctx.user.id, product=data["name"], decision_no=data["decision"])
    now = utcnow()
    cert = Certificate(owner_user_id=ctx.user.id, product=data["name"], producer=ctx.user.display_name or "",
                       province=data["province"], group=data["group"], stars=int(data["stars"]),
                       decision_no=data["decision"], authority=data.get("authority", "province"),
                       recognized_on=recognized, expires_on=expiry_date(recognized), source="user",
                       created_at=now, updated_at=now)
    ctx.session.add(cert)
    if not ctx.user.province:
        ctx.user.province = data["province"]
    await ctx.session.flush()
    return ctx.reply("products/saved",
                     [[Button(label("common.my_products"), "p:list"), Button(label("products.add_another"), "p:add")]],
                     created=True, c=view(cert, ctx.today()), note=data.get("note", ""),
                     offsets=offsets_text(ctx.settings))


def register(router) -> None:
    router.flow(FLOW, on_text)
    router.callback("pa", on_callback)
