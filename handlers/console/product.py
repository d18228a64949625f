"""A product's page /quantri/san-pham/<id>: certificate, owner(s), printable claim code, every reminder
with its delivery status. Another province's id answers «không tìm thấy» (nothing is revealed)."""
from __future__ import annotations

from sqlalchemy import select

from handlers.products.claims import create_claim_code, deep_link
from handlers.products.repo import AUTHORITY_LABEL
from core.text import parse_id
from core.web.keys import CORE, DB, VIEWER
from core.templates import web_text, web_texts
from core.web.render import bad_request, not_found, page, redirect
from handlers.console.queries import (PRODUCER_TYPES, RECOGNITION_KINDS, cert_status, group_name, subgroup_name,
                                      subgroup_options)
from core.audit import audit
from storage.models import Certificate, Code, Delivery, Identity, KeyValue, Reminder, User, utcnow
from storage.users import aware

STATUS_TEXT = web_texts("certificate_status")
DELIVERY_TEXT = web_texts("delivery_status")


async def _cert_in_scope(request) -> Certificate | None:
    cid = parse_id(request.match_info["id"])
    cert = await request[DB].get(Certificate, cid) if cid else None
    return cert if cert is not None and request[VIEWER].allows(cert.province) else None


def _code_key(cert_id: int) -> str:
    return f"web_claim_code:{cert_id}"          # kv row: the last claim code made on this page


async def _live_code(db, cert: Certificate) -> Code | None:
    if cert.owner_user_id:
        return None
    kv = await db.get(KeyValue, _code_key(cert.id))
    code = await db.get(Code, kv.value) if kv else None
    if code is None or code.used_at is not None or (code.expires_at and aware(code.expires_at) <= utcnow()):
        return None
    return code


async def product(request):
    cert = await _cert_in_scope(request)
    if cert is None:
        return not_found(request)
    db, settings = request[DB], request.app[CORE].settings
    today = request.app[CORE].today()
    owner = await db.get(User, cert.owner_user_id) if cert.owner_user_id else None
    identities = list(await db.scalars(select(Identity).where(Identity.user_id == owner.id))) if owner else []
    reminders = (await db.execute(select(Reminder, Delivery).outerjoin(Delivery, Delivery.key == Reminder.key)
                                  .where(Reminder.kind == "cert", Reminder.ref_id == cert.id)
                                  .order_by(Reminder.due_on, Reminder.id))).all()
    code = await _live_code(db, cert)
    return page(request, "web/product", active="san-pham", title=cert.product, c=cert, today=today,
                status=cert_status(cert, today), status_text=STATUS_TEXT, group=group_name(cert.group),
                subgroup=subgroup_name(cert.subgroup), subgroups=subgroup_options(cert.group),
                authority=AUTHORITY_LABEL.get(cert.authority, cert.authority),
                producer_type=PRODUCER_TYPES.get(cert.producer_type or "", ""),
                kind=RECOGNITION_KINDS.get(cert.recognition_kind or "", ""), owner=owner, identities=identities,
                reminders=reminders, delivery_text=DELIVERY_TEXT, code=code,
                link=deep_link(code.code, settings.bot_username) if code else "")


async def new_code(request):
    """POST: a single-use claim code for this product (30 days), shown printable on the page."""
    cert = await _cert_in_scope(request)
    if cert is None:
        return not_found(request)
    db, viewer = request[DB], request[VIEWER]
    if cert.owner_user_id is None and await _live_code(db, cert) is None:
        code = await create_claim_code(db, cert_ids=[cert.id], created_by=viewer.user_id)
        kv = await db.get(KeyValue, _code_key(cert.id))
        if kv is None:
            db.add(KeyValue(key=_code_key(cert.id), value=code.code))
        else:
            kv.value = code.code
        await audit(db, viewer.user_id, "web.claim_code", cert_id=cert.id, via="web")
    return redirect(f"/quantri/san-pham/{cert.id}#ma-nhan")


async def set_subgroup(request):
    """POST: the certificate's QĐ 26 sub-group (one of its group's, or none), audited."""
    cert = await _cert_in_scope(request)
    if cert is None:
        return not_found(request)
    value = str((await request.post()).get("subgroup", "")).strip()
    if value and value not in {sid for sid, _n, _g in subgroup_options(cert.group)}:
        return bad_request(request, web_text("products.subgroup_not_in_group"),
                           back=f"/quantri/san-pham/{cert.id}")
    if (cert.subgroup or "") != value:
        await audit(request[DB], request[VIEWER].user_id, "web.subgroup", cert_id=cert.id,
                    before=cert.subgroup or "", after=value)
        cert.subgroup = value or None
    return redirect(f"/quantri/san-pham/{cert.id}#phan-nhom")


def routes(r) -> None:
    r.get("/san-pham/{id}", product)
    r.post("/san-pham/{id}/ma-nhan", new_code)
    r.post("/san-pham/{id}/phan-nhom", set_subgroup)
