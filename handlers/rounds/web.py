"""«Đợt đánh giá» /quantri/dot-danh-gia: list, create, edit, delete evaluation rounds (the rows
/dotdanhgia reads and the round reminders use). Fields are checked by `check_round`, the function
/themdot uses; a refused form keeps every answer and names the field. Scope as everywhere."""
from __future__ import annotations

from sqlalchemy import select

from core.audit import audit
from core.reference import all_provinces
from core.templates import validation
from core.text import parse_id
from core.web.keys import CORE, DB, VIEWER
from core.web.render import not_found, page, redirect
from handlers.console.report_data import _variants
from handlers.products.repo import province_name
from handlers.rounds.repo import RoundError, check_round, create_round, find_round
from storage.models import EvaluationRound

FORM = ["province", "name", "deadline", "evaluation", "where"]
LABELS = {"province": "Tỉnh/thành", "name": "Tên đợt", "deadline": "Hạn đăng ký (dd/mm/yyyy)",
          "evaluation": "Ngày đánh giá (không bắt buộc)", "where": "Nơi nộp hồ sơ (không bắt buộc)"}


def _allowed(viewer, province: str | None) -> bool:
    return viewer.national or (province_name(province) or "") in viewer.provinces


async def _round(request) -> EvaluationRound | None:
    rid = parse_id(request.match_info["id"])
    rnd = await request[DB].get(EvaluationRound, rid) if rid else None
    return rnd if rnd is not None and _allowed(request[VIEWER], rnd.province) else None


async def listing(request):
    viewer = request[VIEWER]
    q = select(EvaluationRound).order_by(EvaluationRound.registration_deadline.desc(), EvaluationRound.id)
    if not viewer.national:
        q = q.where(EvaluationRound.province.in_(_variants(viewer)))
    rounds = list(await request[DB].scalars(q.limit(500)))
    return page(request, "web/rounds", active="dot-danh-gia", title="Đợt đánh giá", rounds=rounds,
                today=request.app[CORE].today())


def _form(request, values, errors, rnd, status=200):
    provs = [p.name for p in all_provinces() if _allowed(request[VIEWER], p.name)]
    return page(request, "web/round_form", active="dot-danh-gia", title="Đợt đánh giá", fields=FORM,
                labels=LABELS, v=values, errors=errors, rnd=rnd, provinces=provs, http_status=status)


async def new(request):
    return _form(request, {}, {}, None)


async def edit(request):
    rnd = await _round(request)
    if rnd is None:
        return not_found(request)
    v = dict(province=rnd.province, name=rnd.name, deadline=f"{rnd.registration_deadline:%d/%m/%Y}",
             evaluation=f"{rnd.evaluation_date:%d/%m/%Y}" if rnd.evaluation_date else "", where=rnd.where_to_submit)
    return _form(request, v, {}, rnd)


async def save(request):
    rnd = None
    if "id" in request.match_info:
        rnd = await _round(request)
        if rnd is None:
            return not_found(request)
    form = await request.post()
    raw = {k: str(form.get(k, "")).strip() for k in FORM}
    today = request.app[CORE].today()
    try:
        data = check_round(raw["province"], raw["name"], raw["deadline"], raw["evaluation"], raw["where"], today)
    except RoundError as exc:
        return _form(request, raw, {exc.field: str(exc)}, rnd, 400)
    if not _allowed(request[VIEWER], data.province):
        return _form(request, raw, {"province": validation("rounds.outside_scope", province=data.province)}, rnd, 400)
    db, uid = request[DB], request[VIEWER].user_id
    if rnd is None:
        rnd = await create_round(db, data, uid)
    else:
        other = await find_round(db, data)
        if other is not None and other.id != rnd.id:
            return _form(request, raw, {"name": validation("rounds.duplicate")}, rnd, 400)
        rnd.province, rnd.name, rnd.registration_deadline = data.province, data.name, data.deadline
        rnd.evaluation_date, rnd.where_to_submit = data.evaluation_date, data.where
    await db.flush()
    await audit(db, uid, "round.web_save", round_id=rnd.id, name=rnd.name, province=rnd.province)
    return redirect(f"/quantri/dot-danh-gia#r{rnd.id}")


async def delete(request):
    rnd = await _round(request)
    if rnd is None:
        return not_found(request)
    await audit(request[DB], request[VIEWER].user_id, "round.delete", round_id=rnd.id, name=rnd.name,
                province=rnd.province, via="web")
    await request[DB].delete(rnd)
    return redirect("/quantri/dot-danh-gia")


def routes(r) -> None:
    r.nav("dot-danh-gia", "Đợt đánh giá", "/quantri/dot-danh-gia")
    r.crud("/dot-danh-gia", listing=listing, new=new, edit=edit, save=save, delete=delete)
