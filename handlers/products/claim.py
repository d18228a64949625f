"""Claiming imported products (shared phone number, /nhanma CODE, deep link /start claim_CODE) and
officers sending a register file (CSV/XLSX) to the bot.

Only officers (admins, or an active row in `roles`) may import; everybody else gets a polite
refusal and nothing is written. A file that is too large or unreadable changes nothing either.
"""
from __future__ import annotations

from handlers.products.claims import claim_by_phone, normalise_code, normalise_phone, redeem_code
from handlers.products.importer import allowed_from_scope, import_certificates
from core.permissions import officer_scope
from handlers.products.repo import view
from core.messages import Button, Incoming, Reply
from core.templates import label, validation
from core.text import fold
from storage.models import AuditLog
from core.tabular import MAX_BYTES

CODE_FLOW = "nhanma"
LIST_BUTTONS = [[Button(label("common.my_products"), "p:list")]]


def _claimed(ctx, status: str, certs=(), **kw) -> Reply:
    items = [view(c, ctx.today()) for c in certs]
    kw.setdefault("code", "")
    kw.setdefault("phone", "")
    buttons = LIST_BUTTONS if items else [[Button(label("products.try_other"), "pc:menu")], *LIST_BUTTONS]
    return Reply(ctx.render("products/claimed", status=status, certs=items, **kw), buttons)


async def claim_menu(ctx, msg: Incoming = None):
    return ctx.reply("products/claim_menu", [[Button(label("products.enter_code"), "pc:code")], *LIST_BUTTONS],
                     request_contact=True)


async def _redeem(ctx, text: str) -> Reply:
    code = normalise_code(text)
    res = await redeem_code(ctx.session, ctx.user.id, code, ctx.now())
    if res.status == "unknown" and (await ctx.get_flow()) is not None:
        return ctx.reply("products/ask_code", error=validation("products.bad_code", code=code[:12]))
    await ctx.clear_flow()
    return _claimed(ctx, res.status, res.certs, code=code[:12])


async def nhanma(ctx, msg: Incoming):
    """/nhanma CODE, or /nhanma alone to be asked for the code."""
    if not msg.arg_text:
        await ctx.set_flow(CODE_FLOW, "code", {})
        return ctx.reply("products/ask_code", error=None)
    await ctx.clear_flow()
    return await _redeem(ctx, msg.arg_text)


async def on_text(ctx, msg: Incoming):
    return await _redeem(ctx, msg.text)


async def deeplink(ctx, msg: Incoming):
    """/start claim_<CODE>."""
    payload = msg.args[0] if msg.args else ""
    await ctx.clear_flow()
    res = await redeem_code(ctx.session, ctx.user.id, payload, ctx.now())
    return _claimed(ctx, res.status, res.certs, code=normalise_code(payload)[:12])


async def on_contact(ctx, msg: Incoming):
    if msg.contact_not_own:
        return _claimed(ctx, "not_own")
    phone = normalise_phone(msg.contact_phone)
    if phone is None:
        return _claimed(ctx, "bad_phone")
    ctx.user.phone = phone
    certs = await claim_by_phone(ctx.session, ctx.user.id, phone)
    return _claimed(ctx, "ok" if certs else "nothing", certs, phone=phone)


async def on_callback(ctx, msg: Incoming):
    action = msg.callback.split(":", 2)[1]
    if action == "code":
        await ctx.set_flow(CODE_FLOW, "code", {})
        return ctx.reply("products/ask_code", error=None)
    return await claim_menu(ctx)


async def on_file(ctx, msg: Incoming):
    """An officer sends the province register; everyone else is refused politely."""
    scope = await officer_scope(ctx)
    if scope is None:
        return ctx.reply("products/import_refused", reason="not_officer")
    f = msg.file
    if f.size > MAX_BYTES or (f.data is not None and len(f.data) > MAX_BYTES):
        return ctx.reply("products/import_refused", reason="too_large", limit_mb=MAX_BYTES // 2**20)
    if f.data is None:
        return ctx.reply("products/import_refused", reason="unreadable")
    skip = "bo qua loi" in fold(msg.text) or "--skip-invalid" in msg.text
    report = await import_certificates(ctx.session, f.data, f.filename, today=ctx.today(), skip_invalid=skip,
                                       allowed_provinces=allowed_from_scope(scope))
    ctx.session.add(AuditLog(actor_user_id=ctx.user.id, action="import_certificates",
                             detail={"file": f.filename[:100], "created": report.created, "updated": report.updated,
                                     "unchanged": report.unchanged, "invalid": report.invalid,
                                     "written": report.written}))
    return ctx.reply("products/import_report", r=report, skip_invalid=skip, max_errors=30, cli=False)


def register(router) -> None:
    router.command("nhanma", nhanma, "Nhận sản phẩm bằng mã cán bộ gửi")
    router.flow(CODE_FLOW, on_text)
    router.callback("pc", on_callback)
    router.deeplink("claim", deeplink)
    router.contact = on_contact
    router.file = on_file
