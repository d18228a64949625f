"""/cauhoi: officers see producers' questions for their province, answer in the bot, mark FAQ candidates.

Buttons "q:…": a:<id> answer, faq:<id> / nofaq:<id> after answering, p:<n> page n of the list.
The list is paged, never split: each page is one message under Telegram's limit (PAGE_CHARS) and
carries its own "Trả lời" buttons; a long question shows its first EXCERPT characters there and in
full once the officer taps "Trả lời".
The answer reaches the producer through the delivery path (key "answer:<question id>").
"""
from __future__ import annotations

from sqlalchemy import select

from core.context import Ctx
from core.messages import Button, Incoming, Reply
from core.templates import label
from core.text import parse_id
from core.audit import audit
from core.permissions import callback_parts, province_name, scope_or_refusal
from core.templates import render
from storage.models import OfficerQuestion, utcnow

FLOW = "cauhoi"
PAGE_CHARS = 3500          # one page = one Telegram message (4096), with room for the header
EXCERPT = 600              # characters of a question shown in the list
LISTED = 100               # open questions paged through (oldest first)
MIN_ANSWER = 2          # characters; shorter answers are asked again (chat) / refused (console)


def in_scope(scope, q: OfficerQuestion) -> bool:
    return scope.allows(q.province)


async def list_open(ctx: Ctx, msg: Incoming, page: int = 1):
    """/cauhoi: open questions in the officer's scope, oldest first, one page per message."""
    scope, refusal = await scope_or_refusal(ctx)
    if refusal:
        return refusal
    q = select(OfficerQuestion).where(OfficerQuestion.status == "open")
    if not scope.national:
        q = q.where(OfficerQuestion.province.in_(sorted(scope.provinces)))
    items = list(await ctx.session.scalars(q.order_by(OfficerQuestion.created_at, OfficerQuestion.id)
                                           .limit(LISTED)))
    pages = _pages(ctx, items, scope.label())
    page = min(max(page, 1), len(pages))
    shown = pages[page - 1]
    buttons = [[Button(label("officer.answer", id=x.id), f"q:a:{x.id}")] for x in shown]
    nav = ([Button(label("officer.page_prev"), f"q:p:{page - 1}")] if page > 1 else []) + \
          ([Button(label("officer.page_next"), f"q:p:{page + 1}")] if page < len(pages) else [])
    if nav:
        buttons.append(nav)
    return ctx.reply("officer/questions", buttons, **_page_data(shown, scope.label(), page, len(pages)))


def _page_data(items, scope_label: str, page: int, pages: int) -> dict:
    return dict(items=items, scope=scope_label, names=province_name, page=page, pages=pages, excerpt=EXCERPT)


def _render_page(ctx: Ctx, items, scope_label: str, page: int, pages: int) -> str:
    return ctx.render("officer/questions", **_page_data(items, scope_label, page, pages))


def _pages(ctx: Ctx, items, scope_label: str) -> list[list[OfficerQuestion]]:
    """Greedy pages whose rendered text stays under PAGE_CHARS (at least one question each)."""
    pages: list[list[OfficerQuestion]] = [[]]
    for x in items:
        candidate = pages[-1] + [x]
        if pages[-1] and len(_render_page(ctx, candidate, scope_label, 99, 99)) > PAGE_CHARS:
            pages.append([x])
        else:
            pages[-1] = candidate
    return pages


async def on_button(ctx: Ctx, msg: Incoming):
    scope, refusal = await scope_or_refusal(ctx)
    if refusal:
        return refusal
    action, arg = callback_parts(msg.callback)
    if action == "p":
        return await list_open(ctx, msg, page=parse_id(arg) or 1)
    q = await ctx.session.get(OfficerQuestion, parse_id(arg)) if parse_id(arg) else None
    if q is None:
        return ctx.reply("officer/gone")
    if not in_scope(scope, q):
        return ctx.reply("officer/other_province", province=province_name(q.province) or "không rõ")
    if action == "a":
        if q.status != "open":
            return ctx.reply("officer/already", id=q.id)
        await ctx.set_flow(FLOW, "answer", {"qid": q.id})
        return ctx.reply("officer/ask_answer", q=q)
    if action in ("faq", "nofaq") and q.status == "answered":
        await mark_faq(ctx.session, q, ctx.user.id, action == "faq")
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
        return ctx.reply("officer/other_province", province=province_name(q.province))
    answer = msg.text.strip()
    if len(answer) < MIN_ANSWER:
        await ctx.set_flow(FLOW, "answer", conv.data)
        return ctx.reply("officer/ask_answer", q=q)
    queued = await answer_question(ctx.session, q, ctx.user.id, answer)
    return ctx.reply("officer/answered", [[Button(label("officer.to_faq"), f"q:faq:{q.id}")],
                  [Button(label("officer.not_faq"), f"q:nofaq:{q.id}")]], id=q.id, queued=queued)


async def answer_question(session, q: OfficerQuestion, officer_id: int, answer: str) -> bool:
    """Record the answer and queue it to the producer (delivery key "answer:<id>"); used by /cauhoi and
    the console's «Câu hỏi» page. -> whether a delivery was queued (False: no reachable channel)."""
    from delivery.queue import enqueue_user
    q.answer, q.status, q.answered_by, q.answered_at = answer, "answered", officer_id, utcnow()
    queued = await enqueue_user(session, q.user_id, Reply(render("officer/answer_to_producer", q=q)),
                                key=f"answer:{q.id}", kind="answer")
    await audit(session, officer_id, "question.answer", question_id=q.id, delivered=queued)
    return queued


async def mark_faq(session, q: OfficerQuestion, officer_id: int, candidate: bool) -> None:
    q.faq_candidate = candidate
    await audit(session, officer_id, "question.faq_mark", question_id=q.id, candidate=candidate)


def register(router) -> None:
    router.command("cauhoi", list_open)
    router.callback("q", on_button)
    router.flow(FLOW, on_text)
