"""«Câu hỏi» /quantri/cau-hoi: the inbox of producers' questions to officers (the rows /cauhoi uses).

Filters: trạng thái (mới / đã trả lời), tỉnh (within scope), order (oldest first by default); `hoi`: one
folded question (the FAQ page's misses link here). The answer
typed here goes through `answer_question` — the same function, rules and delivery row ("answer:<id>")
as the chat command; the page shows that delivery's status. Another province's question answers
«không tìm thấy». The number of open questions shows beside «Câu hỏi» in the menu.
"""
from __future__ import annotations

from sqlalchemy import String, cast, func, literal, select

from core import clock

from core.permissions import province_id_of, province_name
from core.text import parse_id
from core.web.keys import DB, VIEWER
from core.templates import web_text, web_texts
from core.web.render import bad_request, not_found, page, redirect
from handlers.console.product import DELIVERY_TEXT
from handlers.officer.chat import MIN_ANSWER, answer_question, mark_faq
from storage.models import Delivery, OfficerQuestion, User, question_key
from storage.users import aware

STATUSES = {"moi": ("open", web_text("questions.status.open")),
            "da-tra-loi": ("answered", web_text("questions.status.answered"))}
ORDERS = web_texts("questions.order")
MAX_ANSWER = 3000


def scoped(q, viewer):
    return q if viewer.national else q.where(OfficerQuestion.province.in_(sorted(viewer.provinces)))


def in_scope(viewer, q: OfficerQuestion) -> bool:
    return viewer.allows(q.province)


async def open_count(db, viewer) -> int:
    return await db.scalar(scoped(select(func.count()).select_from(OfficerQuestion)
                                  .where(OfficerQuestion.status == "open"), viewer)) or 0


async def inbox(request, *, error: str = "", draft: dict | None = None, http_status: int = 200):
    db, viewer = request[DB], request[VIEWER]
    p = request.query
    tt = p.get("tt", "moi") if p.get("tt", "moi") in (*STATUSES, "tat-ca") else "moi"
    order = p.get("xep", "cu-nhat") if p.get("xep") in ORDERS else "cu-nhat"
    tinh = p.get("tinh", "") if viewer.national else ""
    hoi = question_key(p.get("hoi", ""))             # the FAQ page's link: questions with this folded text
    q = scoped(select(OfficerQuestion, User, Delivery).join(User, User.id == OfficerQuestion.user_id)
               .outerjoin(Delivery, Delivery.key == literal("answer:").concat(cast(OfficerQuestion.id, String))), viewer)
    if tt in STATUSES:
        q = q.where(OfficerQuestion.status == STATUSES[tt][0])
    if hoi:
        q = q.where(OfficerQuestion.question_key == hoi)
    if tinh:
        q = q.where(OfficerQuestion.province == (province_id_of(tinh) or tinh))
    col = OfficerQuestion.created_at
    q = q.order_by(col.asc() if order == "cu-nhat" else col.desc(), OfficerQuestion.id).limit(200)
    rows = (await db.execute(q)).all()
    provinces = []
    if viewer.national:
        provinces = sorted({province_name(v) for v in await db.scalars(
            select(OfficerQuestion.province).distinct()) if v})
    return page(request, "web/questions", active="cau-hoi", title=web_text("questions.title"), rows=rows,
                f=dict(tt=tt, xep=order, tinh=tinh, hoi=hoi), statuses=STATUSES, orders=ORDERS, provinces=provinces,
                names=lambda v: province_name(v) if v else web_text("questions.no_province"),
                delivery_text=DELIVERY_TEXT, error=error, draft=draft or {}, waited=lambda q: (clock.now() - aware(q.created_at)).days,
                http_status=http_status)


async def _question(request) -> OfficerQuestion | None:
    qid = parse_id(request.match_info["id"])
    q = await request[DB].get(OfficerQuestion, qid) if qid else None
    return q if q is not None and in_scope(request[VIEWER], q) else None


async def answer(request):
    q = await _question(request)
    if q is None:
        return not_found(request)
    form = await request.post()
    text = str(form.get("answer", "")).strip()
    if q.status != "open":
        return bad_request(request, web_text("questions.already_answered", id=q.id),
                           back="/quantri/cau-hoi?tt=da-tra-loi")
    if len(text) < MIN_ANSWER or len(text) > MAX_ANSWER:
        why = (web_text("questions.answer_short", min=MIN_ANSWER) if len(text) < MIN_ANSWER
               else web_text("questions.answer_long", max=MAX_ANSWER))
        return await inbox(request, error=why, draft={q.id: text}, http_status=400)
    await answer_question(request[DB], q, request[VIEWER].user_id, text)
    return redirect(f"/quantri/cau-hoi?tt=da-tra-loi#q{q.id}")


async def faq(request):
    q = await _question(request)
    if q is None:
        return not_found(request)
    if q.status != "answered":
        return bad_request(request, web_text("questions.faq_needs_answer"),
                           back="/quantri/cau-hoi")
    form = await request.post()
    await mark_faq(request[DB], q, request[VIEWER].user_id, form.get("candidate") == "1")
    return redirect(f"/quantri/cau-hoi?tt=da-tra-loi#q{q.id}")


def routes(r) -> None:
    r.nav("cau-hoi", web_text("nav.questions"), "/quantri/cau-hoi", badge=open_count)
    r.get("/cau-hoi", inbox)
    r.post("/cau-hoi/{id}/tra-loi", answer)
    r.post("/cau-hoi/{id}/faq", faq)
