"""Free-text questions (FAQ engine), suggestions, 👍/👎 feedback, questions sent to officers.

Callbacks (namespace NS): <NS>:s:<faq id> suggestion tap, <NS>:up:<faq id> / <NS>:dn:<faq id>
feedback, <NS>:o:<faq_log id> send the logged question to an officer. NS is "fq" because "f" is
already taken by handlers/fairs. Menu keys "faq" and "lienhe"; the flow
"lienhe" stores one typed question as an officer_questions row.
"""
from __future__ import annotations

from functools import lru_cache

import yaml
from sqlalchemy import func, select

from core.context import Ctx
from core.dates import STATUS_LABEL, days_left, status_of
from core.faq import FaqEngine, expiry, get_renderer
from core.faq.calculators import IDS as CALC_IDS
from core.faq.content import FAQ_DIR
from core.messages import Button, Incoming, Reply
from core.templates import label
from core.permissions import province_name
from core.reference import province_by_id, province_label
from core.text import parse_id
from handlers.faq.repo import sync
from handlers.start import menu_buttons
from storage.models import Certificate, FaqLog, Feedback, OfficerQuestion

NS = "fq"
FLOW = "lienhe"
MAX_QUESTION = 1000


def get_engine() -> FaqEngine:
    """The process-wide FAQ engine (index built once)."""
    return get_renderer().engine


@lru_cache(maxsize=1)
def popular_ids() -> tuple[str, ...]:
    raw = yaml.safe_load((FAQ_DIR / "_menu.yml").read_text(encoding="utf-8")) or {}
    return tuple(i for i in raw.get("popular") or [] if i in get_engine().entries)


def _label(question: str, limit: int = 60) -> str:
    return question if len(question) <= limit else question[:limit - 1].rstrip() + "…"


# --- live figures from the register ("tỉnh tôi có bao nhiêu sản phẩm OCOP", "sản phẩm của tôi còn hạn không")
def _user_province(ctx: Ctx):
    return province_by_id(ctx.user.province or "")


async def _live_count(ctx: Ctx, ans) -> str | None:
    """Valid certificates of the province named in the question, else of the asker's province."""
    p = ans.data.get("province") or _user_province(ctx)
    if p is None:                               # "tỉnh tôi" and no province chosen yet: ask for one
        return get_renderer().calc_html(ans.calc, count=0, province=None, label="")
    today = ctx.today()
    rows = (await ctx.session.execute(
        select(Certificate.stars, func.count()).where(Certificate.province == p.id, Certificate.expires_on >= today)
        .group_by(Certificate.stars).order_by(Certificate.stars.desc()))).all()
    as_of = await ctx.session.scalar(select(func.max(Certificate.updated_at)).where(Certificate.province == p.id))
    count = sum(n for _, n in rows)
    if count == 0 and ans.faq_id != ans.calc.faq_id:
        return None                             # an FAQ entry already answers (figures of the seeds)
    return get_renderer().calc_html(ans.calc, count=count, province=p, label=province_label(p),
                                    by_stars=[(s, n) for s, n in rows], as_of=as_of.date() if as_of else today)


async def _live_mine(ctx: Ctx, ans) -> str:
    """The asker's own certificates only."""
    today = ctx.today()
    certs = list(await ctx.session.scalars(
        select(Certificate).where(Certificate.owner_user_id == ctx.user.id).order_by(Certificate.expires_on)))
    items = []
    for c in certs[:10]:
        status = status_of(c.expires_on, today)
        w = expiry.from_expiry(c.expires_on, c.recognized_on)
        items.append({"product": c.product, "stars": c.stars, "status": STATUS_LABEL[status], "expires_on": c.expires_on,
                      "days_left": days_left(c.expires_on, today),
                      "window": w if status != "expired" and w.closes >= today else None})
    return get_renderer().calc_html(ans.calc, items=items, today=today)


LIVE = {"live_count": _live_count, "live_mine": _live_mine}


def known_id(faq_id: str) -> bool:
    """An FAQ entry or a calculator (both can be voted on)."""
    return faq_id in get_engine().entries or faq_id in CALC_IDS


def feedback_buttons(faq_id: str) -> list[list[Button]]:
    return [[Button(label("faq.helpful"), f"{NS}:up:{faq_id}"), Button(label("faq.wrong"), f"{NS}:dn:{faq_id}")]]


def entry_reply(faq_id: str, question: str = "") -> Reply:
    return Reply(get_renderer().entry_html(faq_id, question), feedback_buttons(faq_id))


async def faq_replies(ctx: Ctx, text: str) -> list[Reply]:
    """Answer a free-text question (also used mid-flow by other features); logs it in faq_log."""
    question = text.strip()[:MAX_QUESTION]
    await sync(lambda: ctx.session, ctx.settings.database_url)
    ans = get_renderer().respond(question)
    if ans.calc is not None and ans.kind in LIVE:
        live = await LIVE[ans.kind](ctx, ans)
        if live:                                # None: no register figures, keep the entry's answer
            ans.text, ans.faq_id = live, ans.calc.faq_id
    logged = ctx.record(FaqLog, user_id=ctx.user_id, question=question, faq_id=ans.faq_id, score=ans.score,
                        outcome=ans.outcome, with_id=ans.outcome in ("suggest", "fallback"))   # id: for a button
    if ans.outcome == "answer":
        return [Reply(ans.text, feedback_buttons(ans.faq_id))]
    if ans.outcome == "suggest":
        rows = [[Button(_label(q), f"{NS}:s:{fid}")] for fid, q in ans.suggestions]
        return [Reply(ans.text, rows + [[Button(label("faq.to_officer"), f"{NS}:o:{await logged}")]])]
    if ans.outcome == "fallback":
        return [Reply(ans.text, [[Button(label("faq.to_officer"), f"{NS}:o:{await logged}")]])]
    if ans.outcome == "unclear":                # emoji or punctuation only: nothing for an officer
        return [Reply(ans.text, menu_buttons(ctx.router))]
    if ans.kind == "contact":
        return [Reply(ans.text, [[Button(label("faq.contact"), "m:lienhe")]])]
    return [Reply(ans.text)]


async def on_text(ctx: Ctx, msg: Incoming):
    return await faq_replies(ctx, msg.text)


# --- callbacks ------------------------------------------------------------------------------
async def on_callback(ctx: Ctx, msg: Incoming):
    parts = msg.callback.split(":", 2)
    action, arg = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
    await sync(lambda: ctx.session, ctx.settings.database_url)
    if action == "s" and arg in get_engine().entries:
        return entry_reply(arg, get_engine().entries[arg].question)
    if action in ("up", "dn") and known_id(arg):
        return await _feedback(ctx, arg, 1 if action == "up" else -1)
    if action == "o" and parse_id(arg):
        return await _send_logged_question(ctx, parse_id(arg))
    return Reply(ctx.render("faq/feedback_stale"))


async def _feedback(ctx: Ctx, faq_id: str, vote: int) -> Reply:
    """One vote per user and entry: tapping again changes the vote instead of adding rows."""
    row = await ctx.session.scalar(
        select(Feedback).where(Feedback.user_id == ctx.user.id, Feedback.faq_id == faq_id))
    asked = await ctx.session.scalar(select(FaqLog.question).where(    # the question this answered (a
        FaqLog.user_id == ctx.user.id, FaqLog.outcome.in_(("answer", "suggest")),   # tapped suggestion: its question)
        (FaqLog.faq_id == faq_id) | (FaqLog.outcome == "suggest")).order_by(FaqLog.id.desc()).limit(1))
    if row is None:
        ctx.session.add(Feedback(user_id=ctx.user.id, faq_id=faq_id, vote=vote, question=asked))
    else:
        row.vote, row.question = vote, asked or row.question
    if vote > 0:
        return Reply(ctx.render("faq/feedback_up"))
    return Reply(ctx.render("faq/feedback_down"), [[Button(label("faq.contact"), "m:lienhe")]])


async def _send_logged_question(ctx: Ctx, log_id: int) -> Reply:
    log = await ctx.session.get(FaqLog, log_id)
    if log is None or log.user_id != ctx.user.id:
        return Reply(ctx.render("faq/feedback_stale"))
    return await _store_officer_question(ctx, log.question)


async def _store_officer_question(ctx: Ctx, question: str) -> Reply:
    question = question.strip()[:MAX_QUESTION]
    dup = await ctx.session.scalar(select(OfficerQuestion.id).where(
        OfficerQuestion.user_id == ctx.user.id, OfficerQuestion.question == question,
        OfficerQuestion.status == "open"))
    if dup is not None:
        return Reply(ctx.render("faq/officer_already"))
    ctx.session.add(OfficerQuestion(user_id=ctx.user.id, province=ctx.user.province, question=question))
    return Reply(ctx.render("faq/officer_sent", question=question, province=province_name(ctx.user.province) or ""))


# --- menu entries and the "lienhe" flow -------------------------------------------------------
async def menu_faq(ctx: Ctx, msg: Incoming):
    await sync(lambda: ctx.session, ctx.settings.database_url)
    entries = get_engine().entries
    rows = [[Button(_label(entries[i].question), f"{NS}:s:{i}")] for i in popular_ids()]
    return Reply(ctx.render("faq/intro"), rows)


async def menu_contact(ctx: Ctx, msg: Incoming):
    await ctx.set_flow(FLOW, "ask")
    return Reply(ctx.render("faq/lienhe_ask"))


async def contact_flow(ctx: Ctx, msg: Incoming):
    text = msg.text.strip()
    if len(text) < 5:
        return Reply(ctx.render("faq/lienhe_short"))
    await ctx.clear_flow()
    return await _store_officer_question(ctx, text)


async def warm_up(core, worker) -> None:
    """Build the FAQ index at start-up so the first question is as fast as the others."""
    get_renderer()


def register(router) -> None:
    router.text = on_text
    router.on_startup(warm_up)
    router.callback(NS, on_callback)
    router.flow(FLOW, contact_flow)
    router.menu_handler("faq", menu_faq)
    router.menu_handler("lienhe", menu_contact)
