"""/hoso chat: the guided dossier walkthrough (flow in flows/dossier.py, rules in rules/dossier.py).

The shared replay engine (flows/engine.py) handles answers, "Quay lại", stale taps, reset and typed
text; this module adds the dossier's steps: the checklist and its PDF, editing one answer, a document's
"Giải thích thêm", a typed answer or product name, and the goal preset of a deep link.
"""
from __future__ import annotations

import logging
import re

from core.context import Ctx
from core.messages import Incoming, OutFile, Reply
from core.text import fold
from flows import content
from flows import dossier as flow
from flows import dossier_view as view
from flows.engine import Walkthrough
from flows.pdf import FontMissing, build_pdf
from rules import dossier as rules

log = logging.getLogger("ocop.dossier")

GOALS = {"danhgialai": "danh_gia_lai", "reeval": "danh_gia_lai", "nanghang": "nang_hang", "landau": "lan_dau"}
YES = {"co", "da co", "co roi", "da co roi", "roi", "dung", "ok"}
NO = {"chua", "chua co", "khong", "khong co"}


async def _outcome(ctx: Ctx, walk: flow.Walk) -> Reply:
    """The checklist with the next round for the producer's province (officer round, else Điều 5)."""
    from core.permissions import province_name
    from handlers.rounds.repo import upcoming_rounds        # evaluation rounds entered by officers
    province = getattr(ctx.user, "province", None) or ""
    today = ctx.today()
    rounds = await upcoming_rounds(ctx.session, province, today) if province else []
    return view.outcome_reply(walk, next_round=rules.next_round(today, rounds), province=province_name(province),
                              today=today)


async def _finished(ctx: Ctx, walk: flow.Walk, answered: bool) -> list[Reply]:
    """The checklist; right after the last answer its PDF too."""
    return [await _outcome(ctx, walk)] + (_pdf_replies(ctx, walk) if answered else [])


async def start_dossier(ctx: Ctx, msg: Incoming | None = None, goal: str | None = None) -> list[Reply]:
    """Enter the walkthrough (optionally with the goal preset, e.g. from a re-evaluation reminder)."""
    answers = await WALK.answers(ctx)
    if goal is not None and goal in flow.NODES["goal"].options:
        if answers.get("goal") != goal:
            await WALK.forget(ctx, answers)
            await WALK.save(ctx, answers, "goal", goal)
        return await WALK.intro(ctx, answers, "reeval_intro" if goal == "danh_gia_lai" else "intro")
    return await WALK.enter(ctx, answers)


async def open_dossier(ctx: Ctx, msg: Incoming):
    """/hoso and the menu key: start, or show the saved checklist / where the user stopped."""
    return await start_dossier(ctx, msg)


async def deeplink(ctx: Ctx, msg: Incoming):
    """/start hoso_<goal> (e.g. hoso_danhgialai) from a reminder or a QR code."""
    rest = (msg.args[0].split("_", 1) + [""])[1].lower() if msg.args else ""
    return await start_dossier(ctx, msg, GOALS.get(rest))


async def edit(ctx: Ctx, rest: list[str]) -> list[Reply] | None:
    """d:edit lists the answers; d:edit:<node> changes one (later answers are kept, the checklist
    recomputes)."""
    if len(rest) > 1:
        return None
    answers = await WALK.answers(ctx)
    walk = flow.replay(answers)
    if not rest:
        return [view.edit_reply(walk)]
    if rest[0] not in walk.given or rest[0] not in flow.NODES:
        return None
    await WALK.forget(ctx, answers, rest[0])
    return await WALK.show(ctx, answers)


def _pdf_replies(ctx: Ctx, walk: flow.Walk) -> list[Reply]:
    try:
        data = build_pdf(view.answer_summary(walk), flow.checklist(walk), ctx.today())
    except FontMissing:
        log.exception("dossier PDF font missing")
        return [Reply(ctx.render("dossier/pdf_unavailable"))]
    name = f"ho-so-ocop-{ctx.today():%Y%m%d}.pdf"
    return [Reply(file=OutFile(name, data, "application/pdf", ctx.render("dossier/pdf_caption")))]


async def start_action(ctx: Ctx, rest: list[str]) -> list[Reply]:
    return await start_dossier(ctx, None, "danh_gia_lai" if rest == ["reeval"] else GOALS.get("".join(rest)))


async def more(ctx: Ctx, rest: list[str]) -> list[Reply] | None:
    doc = content.document(rest[0]) if len(rest) == 1 else None
    return [view.more_reply(doc, await WALK.walk(ctx))] if doc else None


async def outcome(ctx: Ctx, rest: list[str]) -> list[Reply]:
    return [await _outcome(ctx, await WALK.walk(ctx))]


async def pdf(ctx: Ctx, rest: list[str]) -> list[Reply]:
    return _pdf_replies(ctx, await WALK.walk(ctx))


async def subgroup(ctx: Ctx, rest: list[str]) -> list[Reply] | None:
    return await choose_subgroup(ctx, rest[0]) if len(rest) == 1 and content.subgroup(rest[0]) else None


CLASSIFY_NODES = ("group", "category", "subgroup")


async def choose_subgroup(ctx: Ctx, sub_id: str) -> list[Reply]:
    """Confirm a proposed sub-group: store group / category / sub-group at once (only at those steps)."""
    answers = await WALK.answers(ctx)
    walk = flow.replay(answers)
    if walk.current not in CLASSIFY_NODES:
        return await WALK.stale(ctx, answers)
    for node in CLASSIFY_NODES:
        await WALK.forget(ctx, answers, node)
    for node, value in flow.answers_for_subgroup(sub_id).items():
        await WALK.save(ctx, answers, node, value)
    return await WALK.show(ctx, answers, answered=True)


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


async def typed(ctx: Ctx, walk: flow.Walk, msg: Incoming) -> list[Reply] | None:
    """Typed text: a recognised answer, or at the classifying steps a product name (gazetteer hook)."""
    option = _typed_option(walk, msg.text)
    if option is not None:
        return await WALK.answer(ctx, walk.current, option)
    if walk.current in CLASSIFY_NODES:
        sub = flow.propose_subgroup(msg.text)      # product gazetteer hook (flows/dossier.py)
        if sub is not None:
            return [view.proposal_reply(sub)]
    return None


WALK = Walkthrough(flow.ROUTES, "d", content.button, view.node_reply, view.resume_reply, _finished,
                   actions={"edit": edit, "start": start_action, "more": more, "view": outcome, "pdf": pdf,
                            "sg": subgroup},
                   typed=typed)


def register_chat(router) -> None:
    router.command("hoso", open_dossier, "Hướng dẫn chuẩn bị hồ sơ OCOP")
    router.menu_handler("hoso", open_dossier)
    WALK.register(router)
    router.deeplink("hoso", deeplink)
