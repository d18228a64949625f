"""/cauhoi: officers see producers' questions for their province, answer in the bot, mark FAQ candidates.

Buttons "q:…": a:<id> answer, faq:<id> / nofaq:<id> after answering, more.
The answer reaches the producer through the delivery path (key "answer:<question id>").
"""
from __future__ import annotations

from sqlalchemy import select

from core.context import Ctx
from core.messages import Button, Incoming
from core.templates import label
from core.text import parse_id
from core.audit import audit
from core.permissions import (callback_parts, province_id_of, province_name, province_values,
                                  scope_or_refusal)
from storage.models import OfficerQuestion, utcnow

FLOW = "cauhoi"


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
    buttons = [[Button(label("officer.answer", id=x.id), f"q:a:{x.id}")] for x in items]
    return ctx.reply("officer/questions", buttons, items=items, scope=scope.label(), names=province_name)


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
        q.faq_candidate = action == "faq"
        await audit(ctx.session, ctx.user.id, "question.faq_mark", question_id=q.id, candidate=q.faq_candidate)
        return ctx.reply("officer/faq_marked", candidate=q.faq_candidate)
    return ctx.reply("errors/stale_button")


async def on_text(ctx: Ctx, msg: Incoming):
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
    if len(answer) < 2:
        await ctx.set_flow(FLOW, "answer", conv.data)
        return ctx.reply("officer/ask_answer", q=q)
    q.answer, q.status, q.answered_by, q.answered_at = answer, "answered", ctx.user.id, utcnow()
    queued = await ctx.send_to_user(q.user_id, ctx.reply("officer/answer_to_producer", q=q),
                                    key=f"answer:{q.id}", kind="answer")
    await audit(ctx.session, ctx.user.id, "question.answer", question_id=q.id, delivered=queued)
    worker = ctx.services.get("worker")
    if worker is not None:
        worker.wakeup.set()
    return ctx.reply("officer/answered", [[Button(label("officer.to_faq"), f"q:faq:{q.id}")],
                  [Button(label("officer.not_faq"), f"q:nofaq:{q.id}")]], id=q.id, queued=queued)


def register(router) -> None:
    router.command("cauhoi", list_open)
    router.callback("q", on_button)
    router.flow(FLOW, on_text)
