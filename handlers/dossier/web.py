"""«Hồ sơ» /quantri/ho-so: the dossier funnel of the producers in scope.

Read from what the walkthrough already stores: `flow_answers` (flow="dossier", one row per answered
step) and `conversations` (someone who opened /hoso but answered nothing yet). Each producer's answers
are replayed through flows/dossier.py, so "where they stop" is exactly the step the bot would show them
next. A reset (/hoso → làm lại) deletes the answers, so the figures describe the walks as they stand.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import func, select

from core.permissions import province_id_of
from core.reference import all_provinces
from core.web.keys import DB, VIEWER
from core.templates import web_text
from core.web.render import bad_request, page
from flows import content
from flows import dossier as flow
from handlers.console.report_data import _users_in_scope
from storage.models import Conversation, FlowAnswer, User

# user id -> ((rows, last update), Stop); ("funnel", scope…) -> (version, Funnel)
WALKS = web.AppKey("dossier_walks", dict)


@dataclass
class Funnel:
    started: int = 0
    done: int = 0
    stops: Counter = field(default_factory=Counter)          # node id -> producers stopped there
    reached: Counter = field(default_factory=Counter)        # node id -> producers who saw it
    missing: Counter = field(default_factory=Counter)        # document id -> answered "Chưa có"

    def step_rows(self) -> list[dict]:
        """Every step someone reached, in walk order (questions, then documents in content order)."""
        order = list(flow.NODES) + [flow.DOC + d.id for d in content.documents()]
        return [dict(node=n, title=step_title(n), reached=self.reached[n], stopped=self.stops[n])
                for n in order if self.reached[n]]

    def missing_rows(self) -> list[dict]:
        return [dict(doc=doc_id, title=step_title(flow.DOC + doc_id), n=n,
                     asked=self.reached[flow.DOC + doc_id])
                for doc_id, n in self.missing.most_common()]


def step_title(node: str) -> str:
    if flow.is_document(node):
        doc = content.document(flow.doc_id(node))
        return doc.name if doc else node
    return content.title(node)


@dataclass(frozen=True)
class Stop:
    """What one producer's walk adds to the funnel."""
    path: tuple[str, ...]
    current: str                      # flow.RESULT when done
    missing: tuple[str, ...]          # document ids answered «Chưa có»

    @classmethod
    def of(cls, walk: flow.Walk) -> Stop:
        return cls(walk.path, walk.current,
                   tuple(flow.doc_id(n) for n, v in walk.given.items() if flow.is_document(n) and v == "chua"))


def funnel(stops) -> Funnel:
    """The figures of a set of walks (one `Stop` per producer)."""
    stops = list(stops)
    out = Funnel(started=len(stops))
    out.stops.update(s.current for s in stops)
    out.done = out.stops.pop(flow.RESULT, 0)
    for s in stops:
        out.reached.update(s.path)
        out.missing.update(s.missing)
    return out


def _provinces(viewer) -> list[str]:
    return [p.name for p in all_provinces() if viewer.allows(p.id)]


def _scoped(q, col, viewer, province: str):
    users = _users_in_scope(viewer)
    if users is not None:
        q = q.where(col.in_(select(users.subquery().c[0])))
    if province:
        q = q.where(col.in_(select(User.id).where(User.province == province_id_of(province))))
    return q


async def walks(db, cache: dict, viewer, province: str = "") -> list[Stop]:
    """Each producer's walk in scope. A producer's replay is kept (in `cache`, per console) until their
    answers change — count and latest update of their rows — so a page view reads one row per producer
    and replays only the walks that moved since the last view."""
    stamps = {uid: (n, last) for uid, n, last in (await db.execute(_scoped(
        select(FlowAnswer.user_id, func.count(), func.max(FlowAnswer.updated_at)).where(FlowAnswer.flow == flow.FLOW)
        .group_by(FlowAnswer.user_id), FlowAnswer.user_id, viewer, province))).all()}
    stale = [uid for uid, st in stamps.items() if cache.get(uid, (None,))[0] != st]
    for i in range(0, len(stale), 500):
        chunk, answers = stale[i:i + 500], {}
        for uid, node, value in (await db.execute(select(FlowAnswer.user_id, FlowAnswer.node, FlowAnswer.value)
                                                 .where(FlowAnswer.flow == flow.FLOW,
                                                        FlowAnswer.user_id.in_(chunk)))).all():
            answers.setdefault(uid, {})[node] = value
        for uid in chunk:
            cache[uid] = (stamps[uid], Stop.of(flow.replay(answers.get(uid, {}))))
    opened = await db.scalars(_scoped(select(Conversation.user_id).where(Conversation.flow == flow.FLOW),
                                      Conversation.user_id, viewer, province))
    empty = Stop.of(flow.replay({}))              # opened /hoso, answered nothing yet
    return [cache[uid][1] for uid in stamps] + [empty for uid in opened if uid not in stamps]


async def scope_funnel(db, cache: dict, viewer, province: str = "") -> Funnel:
    """The funnel of a scope; computed again only when the scope's dossier rows changed (their count or
    latest update, and the count of producers inside the flow)."""
    version = tuple((await db.execute(_scoped(
        select(func.count(), func.max(FlowAnswer.updated_at)).where(FlowAnswer.flow == flow.FLOW),
        FlowAnswer.user_id, viewer, province))).one())
    version += (await db.scalar(_scoped(select(func.count()).select_from(Conversation)
                                        .where(Conversation.flow == flow.FLOW), Conversation.user_id, viewer,
                                        province)),)
    key = ("funnel", viewer.national, viewer.provinces, province)
    if key in cache and cache[key][0] == version:
        return cache[key][1]
    f = funnel(await walks(db, cache, viewer, province))
    cache[key] = (version, f)
    return f


async def dossier_page(request):
    viewer = request[VIEWER]
    province = " ".join(request.query.get("tinh", "").split())[:100]
    provinces = _provinces(viewer)
    if province and province not in provinces:
        known = {p.name for p in all_provinces()}
        if province in known:
            raise web.HTTPForbidden()
        return bad_request(request, web_text("dossier.no_province", province=province[:40]), back="/quantri/ho-so")
    f = await scope_funnel(request[DB], request.app[WALKS], viewer, province)
    return page(request, "web/dossier_funnel", active="ho-so", title=web_text("dossier.title"), f=f, steps=f.step_rows(),
                missing=f.missing_rows(), provinces=provinces if len(provinces) > 1 else [], province=province)


def routes(r) -> None:
    r.app[WALKS] = {}
    r.nav("ho-so", web_text("nav.dossier"), "/quantri/ho-so")
    r.get("/ho-so", dossier_page)
