"""«Hội chợ» /quantri/hoi-cho: list, create, edit, delete trade fairs (the `fairs` rows /hoicho reads).

Every field is checked by `check_fair`, the function /themhoicho and the import use; a refused form is
shown again with the reason beside each wrong field and every other answer kept. A provincial officer
only sees and changes their province's fairs (another id answers «không tìm thấy»; a province outside
the scope in the form is refused).
"""
from __future__ import annotations

from sqlalchemy import select

from core.audit import audit
from core.permissions import province_name
from core.reference import all_provinces
from core.templates import validation
from core.text import parse_id
from core.web.keys import CORE, DB, VIEWER
from core.web.render import not_found, page, redirect
from handlers.fairs.repo import check_fair, save_fair
from storage.models import Fair

FORM = ["name", "province", "place", "start_date", "end_date", "registration_deadline", "organiser",
        "contact", "link", "description"]
LABELS = {"name": "Tên hội chợ", "province": "Tỉnh/thành", "place": "Địa điểm", "start_date": "Ngày bắt đầu",
          "end_date": "Ngày kết thúc", "registration_deadline": "Hạn đăng ký", "organiser": "Đơn vị tổ chức",
          "contact": "Liên hệ", "link": "Đường dẫn (http:// hoặc https://)", "description": "Mô tả"}
DATES = {"start_date", "end_date", "registration_deadline"}


def _allowed(viewer, pid: str | None) -> bool:
    return viewer.national or province_name(pid) in viewer.provinces


def _provinces(viewer) -> list[tuple[str, str]]:
    return [(p.id, p.name) for p in all_provinces() if _allowed(viewer, p.id)]


async def _fair(request) -> Fair | None:
    fid = parse_id(request.match_info["id"])
    fair = await request[DB].get(Fair, fid) if fid else None
    return fair if fair is not None and _allowed(request[VIEWER], fair.province) else None


async def listing(request):
    viewer, db = request[VIEWER], request[DB]
    q = select(Fair).order_by(Fair.start_date.desc(), Fair.id)
    if not viewer.national:
        q = q.where(Fair.province.in_([p for p, _ in _provinces(viewer)]))
    fairs = list(await db.scalars(q.limit(500)))
    return page(request, "web/fairs", active="hoi-cho", title="Hội chợ", fairs=fairs, names=province_name,
                today=request.app[CORE].today())


def _form_page(request, values: dict, errors: dict, fair: Fair | None, status: int = 200):
    return page(request, "web/fair_form", active="hoi-cho", title="Sửa hội chợ" if fair else "Thêm hội chợ",
                fields=FORM, labels=LABELS, dates=DATES, v=values, errors=errors, fair=fair,
                provinces=_provinces(request[VIEWER]), http_status=status)


def _as_form(fair: Fair) -> dict:
    out = {k: getattr(fair, k) or "" for k in FORM}
    for k in DATES:
        out[k] = out[k].strftime("%d/%m/%Y") if out[k] else ""
    return out


async def new(request):
    return _form_page(request, {}, {}, None)


async def edit(request):
    fair = await _fair(request)
    return not_found(request) if fair is None else _form_page(request, _as_form(fair), {}, fair)


async def save(request):
    """POST /hoi-cho (create) or /hoi-cho/{id} (edit)."""
    fair = None
    if "id" in request.match_info:
        fair = await _fair(request)
        if fair is None:
            return not_found(request)
    form = await request.post()
    raw = {k: str(form.get(k, "")).strip() for k in FORM}
    checked = check_fair(raw, request.app[CORE].today())
    errors = dict(checked.by_field)
    pid = checked.values.get("province")
    if pid and not _allowed(request[VIEWER], pid):
        errors["province"] = validation("fairs.outside_scope", province=province_name(pid))
    if errors:
        return _form_page(request, raw, errors, fair, status=400)
    db, uid = request[DB], request[VIEWER].user_id
    if fair is None:
        fair, outcome = await save_fair(db, checked.values, uid)
    else:
        clash = await db.scalar(select(Fair.id).where(Fair.name == checked.values["name"], Fair.id != fair.id,
                                                      Fair.start_date == checked.values["start_date"],
                                                      Fair.province == pid))
        if clash:
            return _form_page(request, raw, {"name": validation("fairs.duplicate")}, fair, 400)
        for k, v in checked.values.items():
            setattr(fair, k, v)
        outcome = "updated"
    await db.flush()
    await audit(db, uid, "fair.web_save", fair_id=fair.id, outcome=outcome, name=fair.name, province=fair.province)
    return redirect(f"/quantri/hoi-cho#f{fair.id}")


async def delete(request):
    fair = await _fair(request)
    if fair is None:
        return not_found(request)
    await audit(request[DB], request[VIEWER].user_id, "fair.delete", fair_id=fair.id, name=fair.name,
                province=fair.province, via="web")
    await request[DB].delete(fair)
    return redirect("/quantri/hoi-cho")


def routes(r) -> None:
    r.nav("hoi-cho", "Hội chợ", "/quantri/hoi-cho")
    r.crud("/hoi-cho", listing=listing, new=new, edit=edit, save=save, delete=delete)
