"""/sanpham "Sản phẩm của tôi": list with expiry and status, view, edit, remove, mute reminders.

Every callback carrying a certificate id goes through repo.get_owned: a user only ever sees or
changes their own products (someone else's id answers "not found"). Adding a product lives in
handlers/products/add.py, claiming and officer imports in handlers/products/claim.py.
"""
from __future__ import annotations

from sqlalchemy import update

from handlers.products import fields
from handlers.products.repo import find_by_register_key, get_owned, list_owned, set_recognized, view
from core.messages import Button, Incoming, Reply
from core.templates import label
from handlers.products import add as products_add, claim as products_claim
from handlers.products.add import group_buttons, offsets_text, star_buttons
from handlers.products import reminders
from storage.models import Delivery, utcnow

EDIT_FLOW = "sanpham_sua"
LIST = [[Button(label("common.my_products"), "p:list")]]
TEXT_FIELDS = {"name": "edit_name", "dec": "edit_decision", "date": "edit_date", "prov": "edit_province"}


def _label(c) -> str:
    icon = {"expired": "❌", "soon": "⚠️"}.get(c.status, "✅")
    name = c.product if len(c.product) <= 28 else c.product[:27] + "…"
    return f"{icon} {name} ({c.stars}⭐)"


async def show_list(ctx, msg: Incoming = None):
    items = [view(c, ctx.today()) for c in await list_owned(ctx.session, ctx.user.id)]
    buttons = [[Button(_label(c), f"p:v:{c.id}")] for c in items[:30]]
    buttons += [[Button(label("products.add"), "p:add")], [Button(label("products.claim_imported"), "pc:menu")]]
    return ctx.reply("products/list", buttons, items=items)


def _view_reply(ctx, cert) -> Reply:
    c = view(cert, ctx.today())
    rows = []
    if c.status != "valid":
        rows.append([Button(label("common.prepare_reeval"), "d:start:reeval")])
    rows.append([Button(label("products.edit"), f"p:e:{c.id}"), Button(label("products.delete"), f"p:del:{c.id}")])
    rows.append([Button(label("common.unmute"), f"p:unmute:{c.id}") if c.muted
                 else Button(label("common.mute"), f"p:mute:{c.id}")])
    rows.append([Button(label("products.list"), "p:list")])
    return ctx.reply("products/view", rows, c=c, offsets=offsets_text(ctx.settings))


def _not_found(ctx) -> Reply:
    return ctx.reply("products/not_found", LIST)


async def _cancel_queued(ctx, cert_id: int) -> None:
    """Queued (not yet sent) reminders of a muted / removed certificate are cancelled."""
    await ctx.session.execute(update(Delivery).where(Delivery.key.like(f"cert:{cert_id}:%"),
                                                     Delivery.status == "queued")
                              .values(status="cancelled", last_error="muted or removed by the owner")
                              .execution_options(synchronize_session=False))


def _edit_menu(ctx, cert) -> Reply:
    i = cert.id
    fields_ = [["name", "group", "stars"], ["decision", "date"], ["province"]]
    data = {"decision": "dec", "province": "prov"}
    rows = [[Button(label(f"products.field_{f}"), f"p:ef:{i}:{data.get(f, f)}") for f in row] for row in fields_]
    rows[-1].append(Button(label("common.back"), f"p:v:{i}"))
    return ctx.reply("products/edit_menu", rows, c=view(cert, ctx.today()))


async def _edit_field(ctx, cert, field: str):
    if field == "group":
        return ctx.reply("products/ask", group_buttons(f"p:eg:{cert.id}:"), step="edit_group", error=None)
    if field == "stars":
        return ctx.reply("products/ask", star_buttons(f"p:es:{cert.id}:"), step="edit_stars", error=None)
    step = TEXT_FIELDS.get(field)
    if step is None:
        return _edit_menu(ctx, cert)
    await ctx.set_flow(EDIT_FLOW, step, {"cert_id": cert.id})
    return ctx.reply("products/ask", step=step, error=None)


def _saved(ctx, cert, note: str = "") -> Reply:
    cert.updated_at = utcnow()
    return ctx.reply("products/saved", _view_reply(ctx, cert).buttons, created=False, c=view(cert, ctx.today()),
                     note=note, offsets=offsets_text(ctx.settings))


async def on_text(ctx, msg: Incoming):
    conv = await ctx.get_flow()
    cert = await get_owned(ctx.session, ctx.user.id, (conv.data or {}).get("cert_id"))
    if cert is None:
        await ctx.clear_flow()
        return _not_found(ctx)
    checks = {"edit_name": fields.check_name, "edit_decision": fields.check_decision,
              "edit_province": fields.check_province,
              "edit_date": lambda t: fields.check_date(t, ctx.today())}
    check = checks.get(conv.step)
    if check is None:
        await ctx.clear_flow()
        return _edit_menu(ctx, cert)
    value, error = check(msg.text)
    if error:
        return ctx.reply("products/ask", step=conv.step, error=error)
    note = ""
    key = {"edit_name": "product", "edit_decision": "decision_no", "edit_province": "province"}.get(conv.step)
    if key:
        new = {"product": cert.product, "decision_no": cert.decision_no, "province": cert.province}
        new[key], note = value if key == "province" else (value, "")
        other = await find_by_register_key(ctx.session, new["province"], new["decision_no"], new["product"])
        if other is not None and other.id != cert.id:
            await ctx.clear_flow()
            return ctx.reply("products/duplicate", LIST, own=other.owner_user_id == ctx.user.id,
                             product=new["product"], decision_no=new["decision_no"])
        setattr(cert, key, new[key])
    else:
        set_recognized(cert, value)
    await ctx.clear_flow()
    return _saved(ctx, cert, note)


async def view_product(ctx, cert, arg: str):
    return _view_reply(ctx, cert)


async def edit_menu(ctx, cert, arg: str):
    return _edit_menu(ctx, cert)


def _setter(column: str, check):
    """A button that sets one column from its argument (a group id, a star level)."""
    async def set_value(ctx, cert, arg: str):
        value, error = check(arg)
        if error:
            return _edit_menu(ctx, cert)
        setattr(cert, column, value)
        return _saved(ctx, cert)
    return set_value


set_group = _setter("group", fields.check_group)
set_stars = _setter("stars", fields.check_stars)


async def confirm_remove(ctx, cert, arg: str):
    return ctx.reply("products/confirm_delete",
                     [[Button(label("products.delete"), f"p:delok:{cert.id}"),
                       Button(label("products.keep"), f"p:v:{cert.id}")]], c=cert)


async def remove(ctx, cert, arg: str):
    return await _remove(ctx, cert)


async def _set_muted(ctx, cert, muted: bool):
    cert.muted = muted
    if muted:
        await _cancel_queued(ctx, cert.id)
    return ctx.reply("products/muted", LIST, muted=cert.muted, product=cert.product)


async def mute(ctx, cert, arg: str):
    return await _set_muted(ctx, cert, True)


async def unmute(ctx, cert, arg: str):
    return await _set_muted(ctx, cert, False)


# "p:<action>:<certificate id>[:<arg>]": every action acts on one of the caller's own products
CERT_ACTIONS = {"v": view_product, "e": edit_menu, "ef": _edit_field,
                "eg": set_group, "es": set_stars, "del": confirm_remove, "delok": remove,
                "mute": mute, "unmute": unmute}


async def on_callback(ctx, msg: Incoming):
    """Buttons "p:list", "p:add" and "p:<action>:<id>[:<arg>]" (CERT_ACTIONS)."""
    parts = msg.callback.split(":")
    action = parts[1] if len(parts) > 1 else ""
    if action == "list":
        return await show_list(ctx)
    if action == "add":
        return await products_add.start(ctx, msg)
    handler = CERT_ACTIONS.get(action)
    cert = await get_owned(ctx.session, ctx.user.id, parts[2] if len(parts) > 2 else None)
    if handler is None or cert is None:
        return _not_found(ctx)
    return await handler(ctx, cert, parts[3] if len(parts) > 3 else "")


async def _remove(ctx, cert):
    """User-added rows are deleted; imported rows go back to the register unowned (never lost)."""
    product = cert.product
    await _cancel_queued(ctx, cert.id)
    if cert.source == "import":
        cert.owner_user_id, cert.muted, cert.updated_at = None, False, utcnow()
    else:
        await ctx.session.delete(cert)
    await ctx.session.flush()
    return ctx.reply("products/deleted", LIST, product=product)


def register(router) -> None:
    router.command("sanpham", show_list, "Sản phẩm OCOP của tôi, nhắc hạn")
    router.menu_handler("sanpham", show_list)
    router.callback("p", on_callback)
    router.flow(EDIT_FLOW, on_text)
    products_add.register(router)
    products_claim.register(router)
    router.reminder(reminders.SOURCE)
