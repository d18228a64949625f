"""/hoso chat: the guided dossier walkthrough (flow in flows/dossier.py, rules in rules/dossier.py).

Every tap and typed answer reloads the stored answers, replays them to find the current step,
applies the change and shows the new current step. Stale buttons never change anything.
"""
from __future__ import annotations

import logging
import re

from core.context import Ctx
from core.messages import Incoming, OutFile, Reply
from core.router import as_list
from core.text import fold
from flows import content, store
from flows import dossier as flow
from flows import dossier_view as view
from flows.pdf import FontMissing, build_pdf
from rules import dossier as rules

log = logging.getLogger("ocop.dossier")

GOALS = {"danhgialai": "danh_gia_lai", "reeval": "danh_gia_lai", "nanghang": "nang_hang", "landau": "lan_dau"}
YES = {"co", "da co", "co roi", "da co roi", "roi", "dung", "ok"}
NO = {"chua", "chua co", "khong", "khong co"}


async def _answers(ctx: Ctx) -> dict[str, str]:
    return await store.load(ctx.session, ctx.user.id, flow.FLOW)


async def _leave(ctx: Ctx) -> None:
    """Leave the dossier flow, never another feature's flow (an old dossier button tapped later)."""
    conv = await ctx.get_flow()
    if conv is not None and conv.flow == flow.FLOW:
        await ctx.clear_flow()


async def _outcome(ctx: Ctx, walk: flow.Walk) -> Reply:
    """The checklist with the next round for the producer's province (officer round, else Điều 5)."""
    from handlers.rounds.repo import upcoming_rounds        # evaluation rounds entered by officers
    province = getattr(ctx.user, "province", None) or ""
    today = ctx.today()
    rounds = await upcoming_rounds(ctx.session, province, today) if province else []
    return view.outcome_reply(walk, next_round=rules.next_round(today, rounds), province=province, today=today)


async def _show(ctx: Ctx, answers: dict[str, str], *, pdf: bool = True) -> list[Reply]:
    """The current step; on completion the checklist (and its PDF), leaving the flow."""
    walk = flow.replay(answers)
    if walk.done:
        await _leave(ctx)
        replies = [await _outcome(ctx, walk)]
        return replies + (_pdf_replies(ctx, walk) if pdf else [])
    await ctx.set_flow(flow.FLOW, step=walk.current)
    return [view.node_reply(walk, answers)]


async def start_dossier(ctx: Ctx, msg: Incoming, goal: str | None = None) -> list[Reply]:
    """Enter the walkthrough (optionally with the goal preset, e.g. from a re-evaluation reminder)."""
    answers = await _answers(ctx)
    if goal is not None and goal in flow.NODES["goal"].options:
        if answers.get("goal") != goal:
            await store.forget(ctx.session, ctx.user.id, flow.FLOW)
            await store.save(ctx.session, ctx.user.id, flow.FLOW, "goal", goal)
            answers = {"goal": goal}
        intro = "dossier/reeval_intro" if goal == "danh_gia_lai" else "dossier/intro"
        return [Reply(ctx.render(intro))] + await _show(ctx, answers, pdf=False)
    walk = flow.replay(answers)
    if not walk.given:
        return [Reply(ctx.render("dossier/intro"))] + await _show(ctx, answers)
    if walk.done:
        await _leave(ctx)
        return [await _outcome(ctx, walk)]
    await ctx.set_flow(flow.FLOW, step=walk.current)
    return [view.resume_reply(walk, answers)]


async def open_dossier(ctx: Ctx, msg: Incoming):
    """/hoso and the menu key: start, or show the saved checklist / where the user stopped."""
    return await start_dossier(ctx, msg)


async def deeplink(ctx: Ctx, msg: Incoming):
    """/start hoso_<goal> (e.g. hoso_danhgialai) from a reminder or a QR code."""
    rest = (msg.args[0].split("_", 1) + [""])[1].lower() if msg.args else ""
    return await start_dossier(ctx, msg, GOALS.get(rest))


async def _stale(ctx: Ctx, answers: dict[str, str]) -> list[Reply]:
    return [Reply(ctx.render("dossier/stale"))] + await _show(ctx, answers, pdf=False)


async def answer(ctx: Ctx, node: str, option: str) -> list[Reply]:
    """Record an answer to the current node; anything else is a stale tap."""
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if walk.given.get(node) == option:                 # the same answer again (double tap, old message)
        return await _show(ctx, answers, pdf=False)
    if node != walk.current or option not in flow.options(node, walk.given):
        return await _stale(ctx, answers)
    await store.save(ctx.session, ctx.user.id, flow.FLOW, node, option)
    answers[node] = option
    return await _show(ctx, answers)


async def back(ctx: Ctx, node: str) -> list[Reply]:
    """'Quay lại': forget the answer before the current step and ask it again."""
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if node != walk.current:
        return await _stale(ctx, answers)
    prev = walk.previous()
    if prev:
        await store.forget(ctx.session, ctx.user.id, flow.FLOW, prev)
        answers.pop(prev, None)
    return await _show(ctx, answers, pdf=False)


async def edit(ctx: Ctx, node: str) -> list[Reply]:
    """Change one earlier answer; later answers are kept and the checklist recomputes."""
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if not node:
        return [view.edit_reply(walk)]
    if node not in walk.given or node not in flow.NODES:
        return await _stale(ctx, answers)
    await store.forget(ctx.session, ctx.user.id, flow.FLOW, node)
    answers.pop(node)
    return await _show(ctx, answers, pdf=False)


def _pdf_replies(ctx: Ctx, walk: flow.Walk) -> list[Reply]:
    try:
        data = build_pdf(view.answer_summary(walk), flow.checklist(walk), ctx.today())
    except FontMissing:
        log.exception("dossier PDF font missing")
        return [Reply(ctx.render("dossier/pdf_unavailable"))]
    name = f"ho-so-ocop-{ctx.today():%Y%m%d}.pdf"
    return [Reply(file=OutFile(name, data, "application/pdf", ctx.render("dossier/pdf_caption")))]


async def on_callback(ctx: Ctx, msg: Incoming):
    """Callback namespace "d" (see flows/dossier_view.py for the data layout)."""
    action, *rest = msg.callback.split(":")[1:]
    if action == "a" and len(rest) == 2:
        return await answer(ctx, rest[0], rest[1])
    if action == "back" and len(rest) == 1:
        return await back(ctx, rest[0])
    if action == "edit" and len(rest) <= 1:
        return await edit(ctx, rest[0] if rest else "")
    if action == "start":
        return await start_dossier(ctx, msg, "danh_gia_lai" if rest == ["reeval"] else GOALS.get("".join(rest)))
    if action == "reset" and rest == ["ok"]:
        await store.forget(ctx.session, ctx.user.id, flow.FLOW)
        return [Reply(ctx.render("dossier/intro"))] + await _show(ctx, {})
    if action == "reset":
        return [view.reset_confirm_reply()]
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if action == "more" and len(rest) == 1 and content.document(rest[0]):
        return [view.more_reply(content.document(rest[0]), walk)]
    if action == "view":
        return [await _outcome(ctx, walk)]
    if action == "sg" and len(rest) == 1 and content.subgroup(rest[0]):
        return await choose_subgroup(ctx, rest[0])
    if action == "pdf":
        return _pdf_replies(ctx, walk)
    if action == "cont":
        return await _show(ctx, answers, pdf=False)
    return await _stale(ctx, answers)


CLASSIFY_NODES = ("group", "category", "subgroup")


async def choose_subgroup(ctx: Ctx, sub_id: str) -> list[Reply]:
    """Confirm a proposed sub-group: store group / category / sub-group at once (only at those steps)."""
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if walk.current not in CLASSIFY_NODES:
        return await _stale(ctx, answers)
    for node in CLASSIFY_NODES:
        await store.forget(ctx.session, ctx.user.id, flow.FLOW, node)
        answers.pop(node, None)
    for node, value in flow.answers_for_subgroup(sub_id).items():
        await store.save(ctx.session, ctx.user.id, flow.FLOW, node, value)
        answers[node] = value
    return await _show(ctx, answers)


def _typed_option(walk: flow.Walk, text: str) -> str | None:
    """A typed reply that names an option of the current step ('đã có', 'chưa', a label).

    Numbers are not taken: channels that show numbered choices map them to buttons themselves.
    """
    t = re.sub(r"[^a-z0-9 ]", "", fold(text)).strip()
    opts = flow.options(walk.current, walk.given)
    if flow.is_document(walk.current):
        return "co" if t in YES else "chua" if t in NO else None
    for o in opts:
        if t and t == re.sub(r"[^a-z0-9 ]", "", fold(content.label(walk.current, o))).strip():
            return o
    return None


async def _faq(ctx: Ctx, msg: Incoming) -> list[Reply]:
    """Answer a question typed mid-flow with the FAQ engine (none installed: only the way back)."""
    try:
        from handlers.faq import faq_replies
        return as_list(await faq_replies(ctx, msg.text))
    except Exception:
        log.exception("FAQ digression failed")
    return []


async def on_text(ctx: Ctx, msg: Incoming):
    """Text while in the flow: a recognised answer, 'quay lại', or a FAQ digression."""
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if walk.done:
        await ctx.clear_flow()
        return await _faq(ctx, msg)
    if not msg.text:
        return [Reply(ctx.render("errors/unsupported")), view.digression_reply(answers)]
    if fold(msg.text).strip(" .!") == "quay lai":
        return await back(ctx, walk.current)
    option = _typed_option(walk, msg.text)
    if option is not None:
        return await answer(ctx, walk.current, option)
    if walk.current in CLASSIFY_NODES:
        sub = flow.propose_subgroup(msg.text)      # product gazetteer hook (flows/dossier.py)
        if sub is not None:
            return [view.proposal_reply(sub, walk, answers)]
    return await _faq(ctx, msg) + [view.digression_reply(answers)]


def register_chat(router) -> None:
    router.command("hoso", open_dossier, "Hướng dẫn chuẩn bị hồ sơ OCOP")
    router.menu_handler("hoso", open_dossier)
    router.callback("d", on_callback)
    router.flow(flow.FLOW, on_text, keeps_answers=True)
    router.deeplink("hoso", deeplink)
