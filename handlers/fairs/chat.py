"""/hoicho: upcoming trade fairs (filters, details, .ics); /themhoicho: officers add one; reminders.

Buttons "f:…": d:<id> details, ics:<id> calendar file, pv / p:<province> / mo / m:<yyyy-mm> filters,
all, save / no (add flow), del:<id> (officer removes a fair).
"""
from __future__ import annotations

import re
from datetime import date


from core.context import Ctx
from core.messages import Button, Incoming, OutFile, Reply
from core.templates import label, validation
from core.reference import group_by_id, match_province, province_by_id
from core.text import fold, parse_id
from handlers.fairs import reminders
from handlers.fairs import repo as fairs_mod
from core.audit import audit
from core.permissions import (callback_parts, officer_scope, province_name, refuse_province, require_officer,
                                  officer_flow, scope_or_refusal)
from storage.models import Fair

FLOW = "themhoicho"
SAVED = "themhoicho_saved"     # marker left after saving: a second "Lưu" answers the same
STEPS = ["name", "province", "place", "start_date", "end_date", "registration_deadline", "contact",
         "link", "description"]
OPTIONAL = {"place", "end_date", "registration_deadline", "contact", "link", "description"}
_MONTH = re.compile(r"(?:thang\s*)?(\d{1,2})\s*[/\-]\s*(\d{4})|thang\s*(\d{1,2})$")


def _label(f: Fair) -> str:
    return f"{f.start_date:%d/%m} · {f.name}"[:60]


async def _list(ctx: Ctx, province: str | None = None, month: str | None = None, note: str = ""):
    items = await fairs_mod.upcoming(ctx.session, ctx.today(), province, month)
    buttons = [[Button(_label(f), f"f:d:{f.id}")] for f in items]
    buttons.append([Button(label("fairs.by_province"), "f:pv"), Button(label("fairs.by_month"), "f:mo")])
    if province or month:
        buttons.append([Button(label("fairs.all"), "f:all")])
    return ctx.reply("fairs/list", buttons, fairs=items, note=note,
                     province=province_name(province) if province else "", month=month and f"{month[5:]}/{month[:4]}",
                     names=province_name)


def _real_month(year: int, month: int) -> bool:
    return 1 <= month <= 12 and 2000 <= year <= 2100


def parse_filter(text: str, today: date) -> tuple[str | None, str | None, str]:
    """'/hoicho Tiền Giang' -> province; '/hoicho 12/2026' or 'tháng 12' -> month; (province, month, note)."""
    t = fold(text).strip()
    if not t:
        return None, None, ""
    m = _MONTH.search(t)
    if m:
        mo = int(m.group(1) or m.group(3))
        year = int(m.group(2)) if m.group(2) else (today.year if mo >= today.month else today.year + 1)
        if _real_month(year, mo):
            return None, f"{year:04d}-{mo:02d}", ""
    pm = match_province(text)
    if pm:
        return pm.province.id, None, pm.note
    return None, None, "bad"


async def show(ctx: Ctx, msg: Incoming):
    """/hoicho [tỉnh | tháng]: upcoming fairs, next first."""
    province, month, note = parse_filter(msg.arg_text, ctx.today())
    if note == "bad":
        return ctx.reply("fairs/bad_filter", text=msg.arg_text[:60])
    return await _list(ctx, province, month, note)


async def menu(ctx: Ctx, msg: Incoming):
    """Menu key 'hoicho': fairs, then upcoming evaluation rounds when that feature exists."""
    replies = [await _list(ctx)]
    try:
        from handlers.rounds import chat as rounds   # evaluation rounds belong to another feature
    except ImportError:                       # pragma: no cover
        return replies
    section = getattr(rounds, "menu_section", None) or getattr(rounds, "list_rounds", None)
    if section is not None:
        extra = await section(ctx, None)
        if extra:
            replies.extend(extra if isinstance(extra, list) else [extra])
    return replies


async def on_button(ctx: Ctx, msg: Incoming):
    action, arg = callback_parts(msg.callback)
    if action == "all":
        return await _list(ctx)
    if action == "pv":
        provs = sorted({f.province for f in await fairs_mod.upcoming(ctx.session, ctx.today(), limit=500)})
        rows = [[Button(province_name(p), f"f:p:{p}")] for p in provs]
        return ctx.reply("fairs/pick", rows, what="tỉnh", empty=not provs)
    if action == "mo":
        months = sorted({f.start_date.strftime("%Y-%m") for f in
                         await fairs_mod.upcoming(ctx.session, ctx.today(), limit=500)})
        rows = [[Button(label("fairs.month", month=m[5:], year=m[:4]), f"f:m:{m}")] for m in months]
        return ctx.reply("fairs/pick", rows, what="tháng", empty=not months)
    if action == "p" and province_by_id(arg):
        return await _list(ctx, province=arg)
    if action == "m" and re.fullmatch(r"\d{4}-\d{2}", arg) and _real_month(int(arg[:4]), int(arg[5:])):
        return await _list(ctx, month=arg)
    if action in ("save", "no"):
        return await _finish_add(ctx, action == "save")
    fair = await ctx.session.get(Fair, parse_id(arg)) if parse_id(arg) else None
    if fair is None:
        return ctx.reply("fairs/gone")
    if action == "d":
        return await _detail(ctx, fair)
    if action == "ics":
        content = fairs_mod.ics_bytes(fair, province_name(fair.province))
        return ctx.reply("fairs/ics", file=OutFile(f"hoi-cho-{fair.id}.ics", content, "text/calendar"),
                         name=fair.name)
    if action == "del":
        return await _delete(ctx, fair)
    return ctx.reply("errors/stale_button")


async def _detail(ctx: Ctx, fair: Fair):
    buttons = [[Button(label("fairs.ics"), f"f:ics:{fair.id}")]]
    scope = await officer_scope(ctx)
    if scope and scope.allows(fair.province):
        buttons.append([Button(label("fairs.delete"), f"f:del:{fair.id}")])
    groups = [g.name for g in map(group_by_id, fair.target_groups or []) if g]
    return ctx.reply("fairs/detail", buttons, f=fair, province=province_name(fair.province), groups=groups)


async def _delete(ctx: Ctx, fair: Fair):
    scope, refusal = await scope_or_refusal(ctx)
    if refusal:
        return refusal
    if not scope.allows(fair.province):
        return refuse_province(fair.province)
    await audit(ctx.session, ctx.user.id, "fair.delete", fair_id=fair.id, name=fair.name, province=fair.province)
    await ctx.session.delete(fair)
    return ctx.reply("fairs/deleted", name=fair.name)


# --- officers add a fair --------------------------------------------------------------------
async def add(ctx: Ctx, msg: Incoming):
    """/themhoicho: a short guided flow, one question per field."""
    if deny := await require_officer(ctx):
        return deny
    await ctx.set_flow(FLOW, "name", {})
    return ctx.reply("fairs/ask", step="name", n=1, total=len(STEPS))


async def on_text(ctx: Ctx, msg: Incoming):
    """One answer of /themhoicho, checked at once: a wrong one is asked again, the others are kept."""
    scope, conv, refusal = await officer_flow(ctx)
    if refusal:
        return refusal
    step, data = conv.step, dict(conv.data)
    if step not in STEPS:       # the confirm step waits for a button: ask again, change nothing
        return _confirm(ctx, fairs_mod.check_fair(data, ctx.today()))
    value = "" if (step in OPTIONAL and msg.text.strip() in ("-", "bỏ qua", "bo qua")) else msg.text.strip()
    if step == "province" and value:
        m = match_province(value)
        if m is None:
            return ctx.reply("fairs/bad_value", error=validation("fairs.province_unknown", value=value[:40]))
        if not scope.allows(m.province.id):
            return refuse_province(m.province.id)
        value = m.province.name
    data[step] = value
    checked = fairs_mod.check_fair(data, ctx.today())
    if step in checked.by_field:
        return ctx.reply("fairs/bad_value", error=checked.by_field[step])
    idx = STEPS.index(step) + 1
    if idx < len(STEPS):
        await ctx.set_flow(FLOW, STEPS[idx], data)
        return ctx.reply("fairs/ask", step=STEPS[idx], n=idx + 1, total=len(STEPS))
    wrong = next((s for s in STEPS if s in checked.by_field), None)
    if wrong is not None:       # e.g. the day changed meanwhile: ask that answer again, keep the rest
        await ctx.set_flow(FLOW, wrong, data)
        return [ctx.reply("fairs/bad_value", error=checked.by_field[wrong]),
                ctx.reply("fairs/ask", step=wrong, n=STEPS.index(wrong) + 1, total=len(STEPS))]
    await ctx.set_flow(FLOW, "confirm", data)
    return _confirm(ctx, checked)


def _confirm(ctx: Ctx, checked) -> Reply:
    return ctx.reply("fairs/confirm", [[Button(label("fairs.save"), "f:save"), Button(label("common.drop"), "f:no")]],
                     v=checked.values, province=province_name(checked.values["province"]))


async def _finish_add(ctx: Ctx, save: bool):
    """'Lưu' / 'Bỏ' under the confirmation. A second tap on either after saving gives the same answer."""
    conv = await ctx.get_flow()
    if conv is not None and conv.flow == SAVED:
        return _saved(ctx, conv.data)
    if conv is None or conv.flow != FLOW or conv.step != "confirm":
        return ctx.reply("fairs/gone")
    if not save:
        await ctx.clear_flow()
        return ctx.reply("broadcast/dropped")
    scope = await officer_scope(ctx)
    checked = fairs_mod.check_fair(conv.data, ctx.today())
    if scope is None or checked.errors or not scope.allows(checked.values["province"]):
        await ctx.clear_flow()
        return await require_officer(ctx) or refuse_province(checked.values.get("province"))
    fair, what = await fairs_mod.save_fair(ctx.session, checked.values, ctx.user.id)
    await audit(ctx.session, ctx.user.id, f"fair.{'add' if what == 'created' else 'change'}", fair_id=fair.id,
                name=fair.name, province=fair.province)
    saved = {"fair_id": fair.id, "name": fair.name, "what": what}
    await ctx.set_flow(SAVED, "", saved)      # not a registered flow: later text goes to the FAQ as usual
    return _saved(ctx, saved)


def _saved(ctx: Ctx, saved: dict) -> Reply:
    return ctx.reply("fairs/saved", [[Button(label("fairs.view"), f"f:d:{saved['fair_id']}")]], name=saved["name"],
                     what=saved["what"])


def register(router) -> None:
    router.command("hoicho", show, "Hội chợ sắp diễn ra")
    router.command("themhoicho", add)
    router.callback("f", on_button)
    router.flow(FLOW, on_text)
    router.menu_handler("hoicho", menu)
    router.reminder(reminders.SOURCE)
