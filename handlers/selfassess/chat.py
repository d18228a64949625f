"""/tuchamdiem: the self-assessment pre-score walk (flow.py routes, rules.py scores, view.py presents).

The shared replay engine (flows/engine.py) handles answers, "Quay lại", stale taps, reset and typed
text; this module adds the result, its Mẫu 02 PDF and the product group preset by the dossier walk.
"""
from __future__ import annotations

import logging

from core.context import Ctx
from core.messages import Incoming, OutFile, Reply
from flows.engine import Walkthrough
from flows.pdf import FontMissing
from handlers.selfassess import flow, pdf, view
from handlers.selfassess import sheets as data

log = logging.getLogger("ocop.selfassess")


async def _finished(ctx: Ctx, walk: flow.Walk, answered: bool) -> list[Reply]:
    return [view.result_reply(walk)]


async def start(ctx: Ctx, msg: Incoming | None = None, group: str = "") -> list[Reply]:
    """Enter the walk; `group` (from the dossier walk) preselects the product group."""
    answers = await WALK.answers(ctx)
    if group and group in flow.group_options(answers) and answers.get("group") != group:
        await WALK.save(ctx, answers, "group", group)
        await WALK.forget(ctx, answers, "sub")
        return await WALK.intro(ctx, answers)
    return await WALK.enter(ctx, answers)


async def open_selfassess(ctx: Ctx, msg: Incoming):
    return await start(ctx, msg)


def _pdf_replies(ctx: Ctx, walk: flow.Walk) -> list[Reply]:
    try:
        content = pdf.build(flow.result(walk), view.answer_label("group", walk.given["group"], walk.given),
                            ctx.today())
    except FontMissing:
        log.exception("self-assessment PDF font missing")
        return [Reply(ctx.render("selfassess/pdf_unavailable"))]
    name = f"tu-danh-gia-mau-02-phieu-{flow.sheet_of(walk.given).number:02d}-{ctx.today():%Y%m%d}.pdf"
    return [Reply(file=OutFile(name, content, "application/pdf", ctx.render("selfassess/pdf_caption")))]


async def start_action(ctx: Ctx, rest: list[str]) -> list[Reply] | None:
    return await start(ctx, None, rest[0] if rest else "") if len(rest) <= 1 else None


async def pdf_action(ctx: Ctx, rest: list[str]) -> list[Reply] | None:
    walk = await WALK.walk(ctx)
    return _pdf_replies(ctx, walk) if walk.done and flow.sheet_of(walk.given) is not None else None


async def view_action(ctx: Ctx, rest: list[str]) -> list[Reply]:
    return await WALK.show(ctx, await WALK.answers(ctx))


WALK = Walkthrough(flow.ROUTES, "sa", view.button, view.node_reply, view.resume_reply, _finished,
                   actions={"start": start_action, "pdf": pdf_action, "view": view_action})


def register(router) -> None:
    data.sheets()                       # fail at start-up, not mid-walk, if a sheet file is broken
    router.command("tuchamdiem", open_selfassess, "Tự chấm điểm sơ bộ theo Bộ tiêu chí OCOP")
    router.menu_handler("tuchamdiem", open_selfassess)
    WALK.register(router)
    router.deeplink("tuchamdiem", lambda ctx, msg: start(ctx, msg))
