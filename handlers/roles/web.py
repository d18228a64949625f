"""«Cán bộ» /quantri/can-bo (officers with role and scope; admins grant and revoke with the functions
/capquyen and /thuhoiquyen use) and «Nhật ký» /quantri/nhat-ky (the audit log: filters who / what /
when, CSV export, formula-safe).

Scope: a provincial officer sees the officers of their provinces and the log entries written by
them; national officers and admins see everything; only admins change roles.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from core.dates import DateError, parse_vn_date
from core.permissions import province_name
from core.reference import all_provinces
from core.templates import validation, web_text, web_texts
from core.text import parse_id
from core.web.exports import csv_bytes, download
from core.web.keys import CORE, DB, VIEWER
from core.web.render import bad_request, error_page, not_found, page, redirect
from handlers.roles.chat import find_user, grant_role, revoke_roles
from storage.models import AuditLog, Role, User

LOG_LIMIT = 500
EXPORT_LIMIT = 50000


def _roles_query(viewer):
    q = (select(Role, User).join(User, User.id == Role.user_id).where(Role.revoked_at.is_(None))
         .order_by(Role.province.is_(None).desc(), Role.province, User.display_name, Role.id))
    return q if viewer.national else q.where(Role.province.in_(sorted(viewer.provinces)))


async def officers(request, *, error: str = "", values: dict | None = None, status: int = 200):
    viewer = request[VIEWER]
    rows = (await request[DB].execute(_roles_query(viewer))).all()
    return page(request, "web/officers", active="can-bo", title=web_text("audit.officers_title"), rows=rows, names=province_name,
                provinces=[(p.id, p.name) for p in all_provinces()], error=error, v=values or {},
                admin_ids=request.app[CORE].settings.admin_ids, http_status=status)


def _admin_only(request):
    if not request[VIEWER].admin:
        return error_page(request, 403, "forbidden", validation("roles.admins_only"))
    return None


async def grant(request):
    if deny := _admin_only(request):
        return deny
    form = await request.post()
    who, scope = str(form.get("who", "")).strip(), str(form.get("scope", "")).strip()
    values = {"who": who, "scope": scope}
    target = await find_user(request[DB], who, "telegram") if who else None
    if target is None:
        return await officers(request, error=validation("roles.unknown_user", who=who[:40]), values=values, status=400)
    if scope != "toan-quoc" and (not scope or province_name(scope) == scope):
        return await officers(request, error=validation("roles.pick_scope"), values=values, status=400)
    pid = None if scope == "toan-quoc" else scope
    role = await grant_role(request[DB], request[VIEWER].user_id, target.id, pid)
    if role is None:
        return await officers(request, error=validation("roles.has_role", name=target.display_name or target.id),
                              values=values, status=400)
    return redirect(f"/quantri/can-bo#r{role.id}")


async def revoke(request):
    if deny := _admin_only(request):
        return deny
    rid = parse_id(request.match_info["id"])
    role = await request[DB].get(Role, rid) if rid else None
    if role is None or role.revoked_at is not None:
        return not_found(request)
    q = select(Role).where(Role.id == role.id, Role.revoked_at.is_(None))
    await revoke_roles(request[DB], request[VIEWER].user_id, role.user_id, q)
    return redirect("/quantri/can-bo")


# --- audit log ------------------------------------------------------------------------------
def _log_filters(request):
    """(where clauses, echo of the filters, error)."""
    p, viewer = request.query, request[VIEWER]
    f = {k: p.get(k, "").strip() for k in ("ai", "viec", "tu", "den")}
    where, error = [], ""
    if not viewer.national:
        officers_here = select(Role.user_id).where(Role.province.in_(sorted(viewer.provinces)))
        where.append(AuditLog.actor_user_id.in_(officers_here))
    if f["ai"]:
        uid = parse_id(f["ai"].lstrip("u#"))
        if uid:
            where.append(AuditLog.actor_user_id == uid)
        else:
            where.append(AuditLog.actor_user_id.in_(select(User.id).where(User.display_name.ilike(f"%{f['ai']}%"))))
    if f["viec"]:
        where.append(AuditLog.action.startswith(f["viec"], autoescape=True))
    tz = request.app[CORE].settings.tz
    for key, op in (("tu", "ge"), ("den", "lt")):
        if not f[key]:
            continue
        try:
            d = parse_vn_date(f[key])
        except DateError:
            error = validation("roles.bad_filter_date", value=f[key][:20])
            f[key] = ""
            continue
        d = d + timedelta(days=1) if op == "lt" else d
        moment = datetime.combine(d, time(0), tz)
        where.append(AuditLog.created_at >= moment if op == "ge" else AuditLog.created_at < moment)
    return where, f, error


async def _log_rows(request, limit):
    where, f, error = _log_filters(request)
    q = (select(AuditLog, User.display_name).outerjoin(User, User.id == AuditLog.actor_user_id)
         .where(*where).order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit))
    return (await request[DB].execute(q)).all(), f, error


async def log(request):
    rows, f, error = await _log_rows(request, LOG_LIMIT)
    actions = sorted(set(await request[DB].scalars(select(AuditLog.action).distinct())))
    return page(request, "web/audit", active="nhat-ky", title=web_text("audit.title"), rows=rows, f=f, error=error,
                actions=actions, limit=LOG_LIMIT, http_status=400 if error else 200)


async def log_csv(request):
    rows, _, error = await _log_rows(request, EXPORT_LIMIT)
    if error:
        return bad_request(request, error, back="/quantri/nhat-ky")
    data = csv_bytes(web_texts("audit.header"),
                     ([a.created_at.strftime("%Y-%m-%d %H:%M:%S"), name or "", a.actor_user_id or "", a.action,
                       _detail(a.detail)] for a, name in rows))
    return download(data, "nhat-ky.csv", "text/csv; charset=utf-8")


def _detail(detail) -> str:
    return "; ".join(f"{k}={v}" for k, v in (detail or {}).items())


def routes(r) -> None:
    r.nav("can-bo", web_text("nav.officers"), "/quantri/can-bo")
    r.nav("nhat-ky", web_text("nav.audit"), "/quantri/nhat-ky")
    r.get("/can-bo", officers)
    r.post("/can-bo", grant)
    r.post("/can-bo/{id}/thu-hoi", revoke)
    r.get("/nhat-ky", log)
    r.get("/nhat-ky.csv", log_csv)
