"""Sản phẩm /quantri/san-pham: the register with filters, search, pagination, and exports of exactly the
filtered rows (/quantri/san-pham.xlsx and .csv take the same query parameters)."""
from __future__ import annotations

from sqlalchemy import func, select

from core.permissions import province_name
from core.web.exports import XLSX_MIME, csv_bytes, download, xlsx_bytes
from core.web.keys import CORE, DB, VIEWER
from core.templates import web_text, web_texts
from core.web.render import bad_request, error_page, page
from handlers.console.queries import (PAGE_SIZE, PRODUCER_TYPES, RECOGNITION_KINDS, STATUS, STATUS_OF_VIEW,
                                      FilterError, Filters, cert_status, group_name, group_options, parse_filters,
                                      province_options, reachable_clause, register_query, subgroup_name,
                                      subgroup_options)
from handlers.console.snapshot import cached, scope_key
from storage.models import Certificate, Identity

EXPORT_HEADER = web_texts("products.export_header")
STATUS_TEXT = web_texts("certificate_status")
YES, NOT_YET, NO = web_text("console.has"), web_text("console.not_yet"), web_text("console.has_not")
MAX_EXPORT = 100_000


def _filters(request):
    """(filters, None) or (None, error response)."""
    try:
        return parse_filters(request.query, request[VIEWER]), None
    except FilterError as exc:
        return None, bad_request(request, web_text("console.no_change", problem=exc), back="/quantri/san-pham")
    except PermissionError:
        return None, error_page(request, 403, "out_of_scope", back="/quantri/san-pham")


async def register(request):
    f, err = _filters(request)
    if err:
        return err
    viewer, db = request[VIEWER], request[DB]
    today = request.app[CORE].today()
    q = register_query(viewer, f, today)
    total = await db.scalar(select(func.count()).select_from(q.order_by(None).subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    if f.trang > pages:
        f.trang = pages
    reach = reachable_clause().label("reach")
    rows = (await db.execute(q.add_columns(reach).order_by(Certificate.expires_on, Certificate.id)
                             .offset((f.trang - 1) * PAGE_SIZE).limit(PAGE_SIZE))).all()
    items = [dict(c=c, reach=r, status=cert_status(c, today), group=group_name(c.group),
                  subgroup=subgroup_name(c.subgroup)) for c, r in rows]
    communes = await cached(db, ("communes", scope_key(viewer)), lambda: _communes(db, viewer, today))
    return page(request, "web/register", active="san-pham", title=web_text("products.title"), f=f, items=items, total=total,
                pages=pages, groups=group_options(), subgroups=subgroup_options(f.nhom or None), statuses=STATUS, status_param=STATUS_OF_VIEW,
                provinces=province_options(viewer), communes=communes, status_text=STATUS_TEXT)


async def _communes(db, viewer, today) -> list[str]:
    return [c for c in (await db.scalars(register_query(viewer, Filters(), today).with_only_columns(
        Certificate.commune).where(Certificate.commune.is_not(None)).distinct().order_by(Certificate.commune)
        .limit(500))).all() if c]


EXPORT_COLUMNS = (Certificate.id, Certificate.product, Certificate.producer, Certificate.producer_type,
                  Certificate.phone, Certificate.commune, Certificate.province, Certificate.group, Certificate.subgroup,
                  Certificate.stars, Certificate.decision_no, Certificate.recognized_on, Certificate.expires_on,
                  Certificate.recognition_kind, Certificate.revoked, Certificate.revoked_on, Certificate.owner_user_id)


async def _export_rows(request, f):
    """Plain column tuples (no ORM objects) and one set of reachable owners: 20,000 rows in well under 3 s."""
    viewer, db = request[VIEWER], request[DB]
    today = request.app[CORE].today()
    q = register_query(viewer, f, today).with_only_columns(*EXPORT_COLUMNS) \
        .order_by(Certificate.expires_on, Certificate.id).limit(MAX_EXPORT)
    rows = (await db.execute(q)).all()
    owners = {r.owner_user_id for r in rows if r.owner_user_id}
    reachable = set()
    owner_list = sorted(owners)
    for i in range(0, len(owner_list), 5000):
        reachable.update(await db.scalars(select(Identity.user_id).where(
            Identity.active.is_(True), Identity.user_id.in_(owner_list[i:i + 5000]))))
    out = []
    for c in rows:
        out.append([c.id, c.product, c.producer, PRODUCER_TYPES.get(c.producer_type or "", ""), c.phone or "",
                    c.commune or "", province_name(c.province), group_name(c.group), subgroup_name(c.subgroup), c.stars, c.decision_no, c.recognized_on,
                    c.expires_on, RECOGNITION_KINDS.get(c.recognition_kind or "", ""),
                    STATUS_TEXT[cert_status(c, today)], c.revoked_on, YES if c.owner_user_id else NOT_YET,
                    YES if c.owner_user_id in reachable else NO])
    return out


async def export_xlsx(request):
    f, err = _filters(request)
    if err:
        return err
    rows = await _export_rows(request, f)
    return download(xlsx_bytes([("San pham OCOP", EXPORT_HEADER, rows)]), "san-pham-ocop.xlsx", XLSX_MIME)


async def export_csv(request):
    f, err = _filters(request)
    if err:
        return err
    rows = await _export_rows(request, f)
    return download(csv_bytes(EXPORT_HEADER, rows), "san-pham-ocop.csv", "text/csv; charset=utf-8")


def routes(r) -> None:
    r.get("/san-pham", register)
    r.get("/san-pham.xlsx", export_xlsx)
    r.get("/san-pham.csv", export_csv)


