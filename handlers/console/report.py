"""Báo cáo /quantri/bao-cao?tu=YYYY-MM-DD&den=YYYY-MM-DD — the half-year / annual report for the officer's
scope and period; targets entered on the page; /quantri/bao-cao.xlsx gives one sheet per table."""
from __future__ import annotations

from datetime import date

from core.dates import DateError, parse_vn_date
from core.reference import group_by_id, province_id_of
from core.text import parse_id
from core.web.exports import XLSX_MIME, download, xlsx_bytes
from core.web.keys import CORE, DB, VIEWER
from core.web.render import bad_request, error_page, not_found, page, redirect
from handlers.console.queries import PRODUCER_TYPES, group_options, province_options
from handlers.console.report_data import build
from core.audit import audit
from storage.models import PlanTarget

MAX_TARGET = 100_000
SHEETS = {"sao_nhom": "Sao theo nhóm", "phan_nhom": "Theo phân nhóm", "chu_the": "Chủ thể theo loại hình", "xa": "Theo xã phường",
          "hinh_thuc": "Theo hình thức", "het_han": "Hết hạn và thu hồi", "chua_cong_nhan_lai": "Chưa công nhận lại",
          "dot": "Theo đợt đánh giá", "chi_tieu": "Chỉ tiêu và kết quả", "bot": "Hoạt động của bot"}


def _period(request, today: date):
    """(tu, den) from the query, default 1/1 of this year → today; raises ValueError with a message."""
    def one(key, default):
        raw = request.query.get(key, "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"Ngày «{raw[:20]}» không hợp lệ; dùng dạng NNNN-TT-NN, ví dụ 2026-06-30.") from None
    tu, den = one("tu", date(today.year, 1, 1)), one("den", today)
    if tu > den:
        raise ValueError("Ngày bắt đầu phải trước ngày kết thúc.")
    if (den - tu).days > 366 * 10 or tu.year < 2018:
        raise ValueError("Kỳ báo cáo phải trong khoảng từ năm 2018, dài tối đa 10 năm.")
    return tu, den


async def _data(request):
    core = request.app[CORE]
    today = core.today()
    tu, den = _period(request, today)
    data = await build(request[DB], request[VIEWER], tu, den, today, core.settings.tz)
    return tu, den, today, data


async def report(request):
    try:
        tu, den, today, data = await _data(request)
    except ValueError as exc:
        return bad_request(request, str(exc), back="/quantri/bao-cao")
    return page(request, "web/report", active="bao-cao", title="Báo cáo", tu=tu, den=den, today=today, **data,
                groups=group_options(), producer_types=PRODUCER_TYPES,
                provinces=province_options(request[VIEWER]), error=request.query.get("loi", "")[:200])


async def report_xlsx(request):
    try:
        tu, den, _today, data = await _data(request)
    except ValueError as exc:
        return bad_request(request, str(exc), back="/quantri/bao-cao")
    sheets = [(SHEETS.get(t.key, t.key), t.header, t.all_rows()) for t in data["tables"]]
    return download(xlsx_bytes(sheets), f"bao-cao-ocop-{tu.isoformat()}-{den.isoformat()}.xlsx", XLSX_MIME)


def _target_from_form(form, viewer):
    """-> (PlanTarget fields, None) or (None, Vietnamese reason)."""
    raw_n = str(form.get("target", "")).strip()
    if not raw_n.isdigit() or not 1 <= int(raw_n) <= MAX_TARGET:
        return None, "Chỉ tiêu phải là số sản phẩm từ 1 đến 100.000."
    try:
        due = parse_vn_date(str(form.get("due_on", "")).strip())
    except (DateError, ValueError):
        try:
            due = date.fromisoformat(str(form.get("due_on", "")).strip())
        except ValueError:
            return None, "Ngày của chỉ tiêu không hợp lệ (ví dụ 31/12/2026)."
    stars = str(form.get("stars", "")).strip()
    if stars and stars not in ("3", "4", "5"):
        return None, "Số sao phải là 3, 4 hoặc 5."
    group = str(form.get("group", "")).strip()
    if group and group_by_id(group) is None:
        return None, "Nhóm sản phẩm không hợp lệ."
    ptype = str(form.get("producer_type", "")).strip()
    if ptype and ptype not in PRODUCER_TYPES:
        return None, "Loại hình chủ thể không hợp lệ."
    province = str(form.get("province", "")).strip() or None
    if province is None and not viewer.national:
        province = sorted(viewer.provinces)[0] if len(viewer.provinces) == 1 else None
        if province is None:
            return None, "Bạn chọn tỉnh/thành của chỉ tiêu."
    pid = province_id_of(province)                                   # the chosen name (or the scope's id)
    if province is not None and (pid is None or not viewer.allows(pid)):
        return None, "Tỉnh/thành này không thuộc phạm vi bạn được giao."
    label = " ".join(str(form.get("label", "")).split())[:200]
    return dict(province=pid, label=label, due_on=due, stars=int(stars) if stars else None, group=group or None,
                producer_type=ptype or None, target=int(raw_n)), None


async def add_target(request):
    viewer, db = request[VIEWER], request[DB]
    values, problem = _target_from_form(await request.post(), viewer)
    if problem:
        return error_page(request, 400, "target_not_added", back="/quantri/bao-cao#chi-tieu", problem=problem)
    t = PlanTarget(**values, created_by=viewer.user_id)
    db.add(t)
    await db.flush()
    await audit(db, viewer.user_id, "web.target_add", target_id=t.id, **{k: str(v) for k, v in values.items()})
    return redirect("/quantri/bao-cao#chi-tieu")


async def delete_target(request):
    viewer, db = request[VIEWER], request[DB]
    tid = parse_id(request.match_info["id"])
    t = await db.get(PlanTarget, tid) if tid else None
    if t is None or not (viewer.national or (t.province and viewer.allows(t.province))):
        return not_found(request)
    await audit(db, viewer.user_id, "web.target_delete", target_id=t.id, province=t.province, target=t.target,
                label=t.label)
    await db.delete(t)
    return redirect("/quantri/bao-cao#chi-tieu")


def routes(r) -> None:
    r.get("/bao-cao", report)
    r.get("/bao-cao.xlsx", report_xlsx)
    r.post("/bao-cao/chi-tieu", add_target)
    r.post("/bao-cao/chi-tieu/{id}/xoa", delete_target)
