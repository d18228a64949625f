"""/cauhoi: officers see producers' questions for their province, answer in the bot, mark FAQ candidates.

Buttons "q:…": a:<id> answer, faq:<id> / nofaq:<id> after answering, more.
The answer reaches the producer through the delivery path (key "answer:<question id>").
"""
from __future__ import annotations

from sqlalchemy import select

from core.context import Ctx
from core.messages import Button, Incoming, Reply
from core.text import parse_id
from core.audit import audit
from core.permissions import (callback_parts, province_id_of, province_name, province_values,
                                  scope_or_refusal)
from core.templates import render
from storage.models import OfficerQuestion, utcnow

FLOW = "cauhoi"
MIN_ANSWER = 2          # characters; shorter answers are asked again (chat) / refused (console)


def in_scope(scope, q: OfficerQuestion) -> bool:
    return scope.national or scope.allows(province_id_of(q.province))


async def list_open(ctx: Ctx, msg: Incoming):
    """/cauhoi: open questions in the officer's scope, oldest first."""
    scope, refusal = await scope_or_refusal(ctx)
    if refusal:
        return refusal
    q = select(OfficerQuestion).where(OfficerQuestion.status == "open")
    if not scope.national:
        q = q.where(OfficerQuestion.province.in_([v for p in scope.provinces for v in province_values(p)]))
    items = list(await ctx.session.scalars(q.order_by(OfficerQuestion.created_at, OfficerQuestion.id).limit(10)))
    buttons = [[Button(f"✍️ Trả lời #{x.id}", f"q:a:{x.id}")] for x in items]
    return Reply(ctx.render("officer/questions", items=items, scope=scope.label(), names=province_name), buttons)


async def on_button(ctx: Ctx, msg: Incoming):
    scope, refusal = await scope_or_refusal(ctx)
    if refusal:
        return refusal
    action, arg = callback_parts(msg.callback)
    q = await ctx.session.get(OfficerQuestion, parse_id(arg)) if parse_id(arg) else None
    if q is None:
        return ctx.reply("officer/gone")
    if not in_scope(scope, q):
        return ctx.reply("officer/other_province", province=province_name(province_id_of(q.province)) or "không rõ")
    if action == "a":
        if q.status != "open":
            return ctx.reply("officer/already", id=q.id)
        await ctx.set_flow(FLOW, "answer", {"qid": q.id})
        return ctx.reply("officer/ask_answer", q=q)
    if action in ("faq", "nofaq") and q.status == "answered":
        await mark_faq(ctx.session, q, ctx.user.id, action == "faq")
        return ctx.reply("officer/faq_marked", candidate=q.faq_candidate)
    return ctx.reply("errors/stale_button")


async def typed(ctx: Ctx, msg: Incoming):
    """The officer's answer text."""
    scope, refusal = await scope_or_refusal(ctx)
    conv = await ctx.get_flow()
    await ctx.clear_flow()
    if refusal:
        return refusal
    q = await ctx.session.get(OfficerQuestion, int(conv.data.get("qid", 0)))
    if q is None or q.status != "open":
        return ctx.reply("officer/gone")
    if not in_scope(scope, q):
        return ctx.reply("officer/other_province", province=province_name(province_id_of(q.province)))
    answer = msg.text.strip()
    if len(answer) < MIN_ANSWER:
        await ctx.set_flow(FLOW, "answer", conv.data)
        return ctx.reply("officer/ask_answer", q=q)
    queued = await answer_question(ctx.session, q, ctx.user.id, answer, ctx.services)
    return Reply(ctx.render("officer/answered", id=q.id, queued=queued),
                 [[Button("⭐ Đưa vào câu hỏi thường gặp", f"q:faq:{q.id}")],
                  [Button("Không cần", f"q:nofaq:{q.id}")]])


async def answer_question(session, q: OfficerQuestion, officer_id: int, answer: str, services=None) -> bool:
    """Record the answer and queue it to the producer (delivery key "answer:<id>"); used by /cauhoi and
    the console's «Câu hỏi» page. -> whether a delivery was queued (False: no reachable channel)."""
    from delivery.queue import enqueue_user
    q.answer, q.status, q.answered_by, q.answered_at = answer, "answered", officer_id, utcnow()
    queued = await enqueue_user(session, q.user_id, Reply(render("officer/answer_to_producer", q=q)),
                                key=f"answer:{q.id}", kind="answer")
    await audit(session, officer_id, "question.answer", question_id=q.id, delivered=queued)
    worker = (services or {}).get("worker")
    if worker is not None:
        worker.wakeup.set()
    return queued


async def mark_faq(session, q: OfficerQuestion, officer_id: int, candidate: bool) -> None:
    q.faq_candidate = candidate
    await audit(session, officer_id, "question.faq_mark", question_id=q.id, candidate=candidate)


def register(router) -> None:
    router.command("cauhoi", list_open)
    router.callback("q", on_button)
    router.flow(FLOW, typed)
