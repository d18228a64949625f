"""/tuchamdiem: the self-assessment pre-score walk (flow.py routes, rules.py scores, view.py presents).

Every tap or typed answer reloads the stored answers, replays them to find the current step, applies
the change and shows the new current step. A button of an earlier step changes nothing.
"""
from __future__ import annotations

import logging

from core.context import Ctx
from core.messages import Incoming, OutFile, Reply
from core.router import as_list
from core.text import fold
from flows import store
from flows.pdf import FontMissing
from handlers.selfassess import flow, pdf, view
from handlers.selfassess import sheets as data

log = logging.getLogger("ocop.selfassess")


async def _answers(ctx: Ctx) -> dict[str, str]:
    return await store.load(ctx.session, ctx.user.id, flow.FLOW)


async def _leave(ctx: Ctx) -> None:
    conv = await ctx.get_flow()
    if conv is not None and conv.flow == flow.FLOW:
        await ctx.clear_flow()


async def _show(ctx: Ctx, answers: dict[str, str]) -> list[Reply]:
    walk = flow.replay(answers)
    if walk.done:
        await _leave(ctx)
        return [view.result_reply(walk)]
    await ctx.set_flow(flow.FLOW, step=walk.current)
    return [view.node_reply(walk, answers)]


async def start(ctx: Ctx, msg: Incoming, group: str = "") -> list[Reply]:
    """Enter the walk; `group` (from the dossier walk) preselects the product group."""
    answers = await _answers(ctx)
    if group and group in flow.group_options(answers) and answers.get("group") != group:
        await store.save(ctx.session, ctx.user.id, flow.FLOW, "group", group)
        await store.forget(ctx.session, ctx.user.id, flow.FLOW, "sub")
        answers = {**{k: v for k, v in answers.items() if k != "sub"}, "group": group}
        return [Reply(ctx.render("selfassess/intro"))] + await _show(ctx, answers)
    walk = flow.replay(answers)
    if not walk.given:
        return [Reply(ctx.render("selfassess/intro"))] + await _show(ctx, answers)
    if walk.done:
        await _leave(ctx)
        return [view.result_reply(walk)]
    await ctx.set_flow(flow.FLOW, step=walk.current)
    return [view.resume_reply(walk, answers)]


async def open_selfassess(ctx: Ctx, msg: Incoming):
    return await start(ctx, msg)


async def _stale(ctx: Ctx, answers: dict[str, str]) -> list[Reply]:
    return [Reply(ctx.render("selfassess/stale"))] + await _show(ctx, answers)


async def answer(ctx: Ctx, node: str, value: str) -> list[Reply]:
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if walk.given.get(node) == value:                  # the same answer again (double tap)
        return await _show(ctx, answers)
    if node != walk.current or value not in flow.options(node, walk.given):
        return await _stale(ctx, answers)
    await store.save(ctx.session, ctx.user.id, flow.FLOW, node, value)
    answers[node] = value
    return await _show(ctx, answers)


async def back(ctx: Ctx, node: str) -> list[Reply]:
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if node != walk.current:
        return await _stale(ctx, answers)
    prev = walk.previous()
    if prev:
        await store.forget(ctx.session, ctx.user.id, flow.FLOW, prev)
        answers.pop(prev, None)
    return await _show(ctx, answers)


def _pdf_replies(ctx: Ctx, walk: flow.Walk) -> list[Reply]:
    try:
        content = pdf.build(flow.result(walk), view.answer_label("group", walk.given["group"], walk.given),
                            ctx.today())
    except FontMissing:
        log.exception("self-assessment PDF font missing")
        return [Reply(ctx.render("selfassess/pdf_unavailable"))]
    name = f"tu-danh-gia-mau-02-phieu-{walk.sheet.number:02d}-{ctx.today():%Y%m%d}.pdf"
    return [Reply(file=OutFile(name, content, "application/pdf", ctx.render("selfassess/pdf_caption")))]


async def on_callback(ctx: Ctx, msg: Incoming):
    action, *rest = msg.callback.split(":")[1:] or [""]
    if action == "a" and len(rest) == 2:
        return await answer(ctx, rest[0], rest[1])
    if action == "back" and len(rest) == 1:
        return await back(ctx, rest[0])
    if action == "start" and len(rest) <= 1:
        return await start(ctx, msg, rest[0] if rest else "")
    if action == "reset" and rest == ["ok"]:
        await store.forget(ctx.session, ctx.user.id, flow.FLOW)
        return [Reply(ctx.render("selfassess/intro"))] + await _show(ctx, {})
    if action == "reset" and not rest:
        return [view.reset_confirm_reply()]
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if action == "pdf" and walk.sheet is not None and walk.done:
        return _pdf_replies(ctx, walk)
    if action in ("cont", "view"):
        return await _show(ctx, answers)
    return await _stale(ctx, answers)


async def _faq(ctx: Ctx, msg: Incoming) -> list[Reply]:
    try:
        from handlers import faq
        replies_for = getattr(faq, "faq_replies", None)
        if replies_for is not None:
            return as_list(await replies_for(ctx, msg.text))
        if ctx.core.router.text is not None:
            return as_list(await ctx.core.router.text(ctx, msg))
    except Exception:
        log.exception("FAQ digression failed")
    return []


async def on_text(ctx: Ctx, msg: Incoming):
    """Text in the walk: 'quay lại', otherwise a FAQ digression and a button back to the step.

    Numbers typed on Zalo are mapped to the buttons by the channel before they reach here.
    """
    answers = await _answers(ctx)
    walk = flow.replay(answers)
    if walk.done:
        await ctx.clear_flow()
        return await _faq(ctx, msg)
    if not msg.text:
        return [Reply(ctx.render("errors/unsupported")), view.digression_reply(answers)]
    if fold(msg.text).strip(" .!") == "quay lai":
        return await back(ctx, walk.current)
    return await _faq(ctx, msg) + [view.digression_reply(answers)]


def register(router) -> None:
    data.sheets()                       # fail at start-up, not mid-walk, if a sheet file is broken
    router.command("tuchamdiem", open_selfassess, "Tự chấm điểm sơ bộ theo Bộ tiêu chí OCOP")
    router.menu_handler("tuchamdiem", open_selfassess)
    router.callback("sa", on_callback)
    router.flow(flow.FLOW, on_text, keeps_answers=True)
    router.deeplink("tuchamdiem", lambda ctx, msg: start(ctx, msg))
