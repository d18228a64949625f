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
from handlers.products import add as products_add, claim as products_claim
from handlers.products.add import group_buttons, offsets_text, star_buttons
from handlers.products import reminders
from storage.models import Delivery, utcnow

EDIT_FLOW = "sanpham_sua"
LIST = [[Button("⭐ Sản phẩm của tôi", "p:list")]]
TEXT_FIELDS = {"name": "edit_name", "dec": "edit_decision", "date": "edit_date", "prov": "edit_province"}


def _label(c) -> str:
    icon = {"expired": "❌", "soon": "⚠️"}.get(c.status, "✅")
    name = c.product if len(c.product) <= 28 else c.product[:27] + "…"
    return f"{icon} {name} ({c.stars}⭐)"


async def show_list(ctx, msg: Incoming = None):
    items = [view(c, ctx.today()) for c in await list_owned(ctx.session, ctx.user.id)]
    buttons = [[Button(_label(c), f"p:v:{c.id}")] for c in items[:30]]
    buttons += [[Button("➕ Thêm sản phẩm", "p:add")], [Button("📲 Nhận sản phẩm cán bộ đã nhập", "pc:menu")]]
    return Reply(ctx.render("products/list", items=items), buttons)


def _view_reply(ctx, cert) -> Reply:
    c = view(cert, ctx.today())
    rows = []
    if c.status != "valid":
        rows.append([Button("📋 Chuẩn bị hồ sơ đánh giá lại", "d:start:reeval")])
    rows.append([Button("✏️ Sửa", f"p:e:{c.id}"), Button("🗑 Xóa", f"p:del:{c.id}")])
    rows.append([Button("🔔 Bật nhắc", f"p:unmute:{c.id}") if c.muted else Button("🔕 Tắt nhắc", f"p:mute:{c.id}")])
    rows.append([Button("⬅️ Danh sách", "p:list")])
    return Reply(ctx.render("products/view", c=c, offsets=offsets_text(ctx.settings)), rows)


def _not_found(ctx) -> Reply:
    return Reply(ctx.render("products/not_found"), LIST)


async def _cancel_queued(ctx, cert_id: int) -> None:
    """Queued (not yet sent) reminders of a muted / removed certificate are cancelled."""
    await ctx.session.execute(update(Delivery).where(Delivery.key.like(f"cert:{cert_id}:%"),
                                                     Delivery.status == "queued")
                              .values(status="cancelled", last_error="muted or removed by the owner")
                              .execution_options(synchronize_session=False))


def _edit_menu(ctx, cert) -> Reply:
    i = cert.id
    rows = [[Button("Tên", f"p:ef:{i}:name"), Button("Nhóm", f"p:ef:{i}:group"), Button("Số sao", f"p:ef:{i}:stars")],
            [Button("Số quyết định", f"p:ef:{i}:dec"), Button("Ngày công nhận", f"p:ef:{i}:date")],
            [Button("Tỉnh/thành", f"p:ef:{i}:prov"), Button("⬅️ Quay lại", f"p:v:{i}")]]
    return Reply(ctx.render("products/edit_menu", c=view(cert, ctx.today())), rows)


async def _edit_field(ctx, cert, field: str):
    if field == "group":
        return Reply(ctx.render("products/ask", step="edit_group", error=None), group_buttons(f"p:eg:{cert.id}:"))
    if field == "stars":
        return Reply(ctx.render("products/ask", step="edit_stars", error=None), star_buttons(f"p:es:{cert.id}:"))
    step = TEXT_FIELDS.get(field)
    if step is None:
        return _edit_menu(ctx, cert)
    await ctx.set_flow(EDIT_FLOW, step, {"cert_id": cert.id})
    return Reply(ctx.render("products/ask", step=step, error=None))


def _saved(ctx, cert, note: str = "") -> Reply:
    cert.updated_at = utcnow()
    return Reply(ctx.render("products/saved", created=False, c=view(cert, ctx.today()), note=note,
                            offsets=offsets_text(ctx.settings)), _view_reply(ctx, cert).buttons)


async def on_edit_text(ctx, msg: Incoming):
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
        return Reply(ctx.render("products/ask", step=conv.step, error=error))
    note = ""
    key = {"edit_name": "product", "edit_decision": "decision_no", "edit_province": "province"}.get(conv.step)
    if key:
        new = {"product": cert.product, "decision_no": cert.decision_no, "province": cert.province}
        new[key], note = value if key == "province" else (value, "")
        other = await find_by_register_key(ctx.session, new["province"], new["decision_no"], new["product"])
        if other is not None and other.id != cert.id:
            await ctx.clear_flow()
            return Reply(ctx.render("products/duplicate", own=other.owner_user_id == ctx.user.id,
                                    product=new["product"], decision_no=new["decision_no"]), LIST)
        setattr(cert, key, new[key])
    else:
        set_recognized(cert, value)
    await ctx.clear_flow()
    return _saved(ctx, cert, note)


async def on_callback(ctx, msg: Incoming):
    parts = msg.callback.split(":")
    action = parts[1] if len(parts) > 1 else ""
    if action == "list":
        return await show_list(ctx)
    if action == "add":
        return await products_add.start(ctx, msg)
    cert = await get_owned(ctx.session, ctx.user.id, parts[2] if len(parts) > 2 else None)
    if cert is None:
        return _not_found(ctx)
    arg = parts[3] if len(parts) > 3 else ""
    if action == "v":
        return _view_reply(ctx, cert)
    if action == "e":
        return _edit_menu(ctx, cert)
    if action == "ef":
        return await _edit_field(ctx, cert, arg)
    if action in ("eg", "es"):
        value, error = (fields.check_group if action == "eg" else fields.check_stars)(arg)
        if error:
            return _edit_menu(ctx, cert)
        if action == "eg":
            cert.group = value
        else:
            cert.stars = value
        return _saved(ctx, cert)
    if action == "del":
        return Reply(ctx.render("products/confirm_delete", c=cert),
                     [[Button("🗑 Xóa", f"p:delok:{cert.id}"), Button("Không", f"p:v:{cert.id}")]])
    if action == "delok":
        return await _remove(ctx, cert)
    if action in ("mute", "unmute"):
        cert.muted = action == "mute"
        if cert.muted:
            await _cancel_queued(ctx, cert.id)
        return Reply(ctx.render("products/muted", muted=cert.muted, product=cert.product),
                     LIST)
    return _not_found(ctx)


async def _remove(ctx, cert):
    """User-added rows are deleted; imported rows go back to the register unowned (never lost)."""
    product = cert.product
    await _cancel_queued(ctx, cert.id)
    if cert.source == "import":
        cert.owner_user_id, cert.muted, cert.updated_at = None, False, utcnow()
    else:
        await ctx.session.delete(cert)
    await ctx.session.flush()
    return Reply(ctx.render("products/deleted", product=product), LIST)


def register(router) -> None:
    router.command("sanpham", show_list, "Sản phẩm OCOP của tôi, nhắc hạn")
    router.menu_handler("sanpham", show_list)
    router.callback("p", on_callback)
    router.flow(EDIT_FLOW, on_edit_text)
    products_add.register(router)
    products_claim.register(router)
    router.reminder(reminders.SOURCE)
