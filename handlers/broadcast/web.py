"""«Thông báo» /quantri/thong-bao: the broadcasts of /thongbao on the console (same rules, same rows).

The composer reads the same segment as the chat flow (provinces within the officer's scope, groups,
stars, topic, certificates expiring before a date), checks the text with `templates.check`, previews
with `sending.prepare`, sends with `sending.create` and cancels with `sending.cancel`; the live count
(`/thong-bao/dem`) and the progress (`/thong-bao/{id}/tien-do`) are small JSON answers read by
static/broadcast.js. A broadcast is seen by national officers and by the officers of every province it
targets; it is cancelled and its unreached CSV downloaded by its author or a national officer, as in chat.
Another province's broadcast answers «không tìm thấy» on every URL.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup
from sqlalchemy import func, select

from core.audit import audit
from core.messages import Reply
from core.permissions import Scope, province_name
from core.reference import all_groups, all_provinces, group_by_id, province_by_id
from core.text import parse_id
from core.web.exports import download
from core.web.keys import CORE, DB, VIEWER
from core.templates import validation, web_text, web_texts
from core.web.render import bad_request, not_found, page, redirect
from delivery.queue import enqueue_user
from handlers.broadcast import sending, templates
from handlers.broadcast.segments import TOPIC_NAMES, TOPICS, count as segment_count, describe, effective_provinces
from handlers.broadcast.when import MAX_AHEAD, parse_date, parse_datetime
from storage.models import Broadcast, Delivery, User, utcnow

BASE = "/quantri/thong-bao"
STATUS = web_texts("broadcast.status")
OUTCOME = web_texts("broadcast.outcome")
CHANNELS = web_texts("broadcast.channel")
MAX_TEXT = 3500
STARS = (3, 4, 5)


def scope_of(viewer) -> Scope:
    return Scope(national=viewer.national, admin=viewer.admin,
                 provinces=viewer.provinces)


def visible(viewer, bc: Broadcast | None) -> bool:
    """National officers see every broadcast; a provincial officer those aimed only at their provinces."""
    if bc is None:
        return False
    provs = (bc.segment or {}).get("provinces") or []
    return viewer.national or (bool(provs) and scope_of(viewer).allows_all(provs))


def may_manage(viewer, bc: Broadcast) -> bool:
    """Cancel, edit a draft, download the unreached: its author or a national officer (as /thongbao)."""
    return visible(viewer, bc) and (bc.created_by == viewer.user_id or viewer.national)


async def _broadcast(request) -> Broadcast | None:
    bid = parse_id(request.match_info["id"])
    bc = await request[DB].get(Broadcast, bid) if bid else None
    return bc if visible(request[VIEWER], bc) else None


# --- the form -> a segment -------------------------------------------------------------------
@dataclass
class Composed:
    text: str = ""
    segment: dict = field(default_factory=dict)
    when: datetime | None = None
    raw: dict = field(default_factory=dict)           # the answers as typed (shown again)
    errors: dict[str, str] = field(default_factory=dict)


def _date(value: str, today: date) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return parse_date(value, today)


def _when(value: str, today: date, tz) -> datetime | None:
    try:
        out = datetime.fromisoformat(value)
        return out if out.tzinfo else out.replace(tzinfo=tz)
    except ValueError:
        return parse_datetime(value, today, tz)


def read_form(form, scope: Scope, today: date, tz, *, need_when: bool = False) -> Composed:
    """The composer's fields (form or query string) checked one by one; errors keyed by field."""
    c = Composed()
    c.raw = dict(text=str(form.get("text", "")), tinh=form.getall("tinh", []), nhom=form.getall("nhom", []),
                 sao=form.getall("sao", []), chude=str(form.get("chude", "")), het_han=str(form.get("het_han", "")),
                 luc=str(form.get("luc", "")).strip())
    seg: dict = {}
    provs = [str(p) for p in c.raw["tinh"] if p]
    for p in provs:
        if not province_by_id(p):
            c.errors["tinh"] = validation("broadcast.province_unknown", value=p)
        elif not scope.allows(p):
            c.errors["tinh"] = validation("broadcast.outside_scope", province=province_name(p))
    if provs:
        seg["provinces"] = list(dict.fromkeys(provs))
    groups = [str(g) for g in c.raw["nhom"] if g]
    if any(group_by_id(g) is None for g in groups):
        c.errors["nhom"] = validation("broadcast.group_unknown")
    elif groups:
        seg["groups"] = list(dict.fromkeys(groups))
    stars = [str(s) for s in c.raw["sao"] if s]
    if any(s not in ("3", "4", "5") for s in stars):
        c.errors["sao"] = validation("broadcast.stars_bad")
    elif stars:
        seg["stars"] = sorted({int(s) for s in stars})
    if c.raw["chude"]:
        if c.raw["chude"] not in TOPIC_NAMES:
            c.errors["chude"] = validation("broadcast.topic_unknown")
        else:
            seg["topic"] = c.raw["chude"]
    if c.raw["het_han"].strip():
        d = _date(c.raw["het_han"].strip(), today)
        if d is None:
            c.errors["het_han"] = validation("broadcast.date_bad")
        else:
            seg["expiring_before"] = d.isoformat()
    c.segment = seg
    c.text = c.raw["text"].replace("\r\n", "\n")
    if need_when:
        when = _when(c.raw["luc"], today, tz) if c.raw["luc"] else None
        now = utcnow()
        if when is None:
            c.errors["luc"] = validation("broadcast.time_bad")
        elif when <= now:
            c.errors["luc"] = validation("broadcast.time_past")
        elif when > now + MAX_AHEAD:
            c.errors["luc"] = validation("broadcast.time_far")
        c.when = when
    return c


def _check_text(c: Composed) -> None:
    checked = templates.check(c.text)
    if len(c.text) > MAX_TEXT:
        checked.errors.append(validation("broadcast.text_long", max=MAX_TEXT))
    if checked.errors:
        c.errors["text"] = " ".join(checked.errors)


def shown(segment: dict, scope: Scope) -> dict:
    """The segment as stored: the provinces after the scope (as /thongbao stores it)."""
    out = dict(segment, provinces=effective_provinces(segment, scope))
    return {k: v for k, v in out.items() if v}


# --- pages -----------------------------------------------------------------------------------
def _province_choices(scope: Scope) -> list[tuple[str, str]]:
    if scope.national:
        return [(p.id, p.name) for p in all_provinces()]
    return [(p, province_name(p)) for p in sorted(scope.provinces)]


def _form_page(request, c: Composed, *, status: int = 200, preview=None, notice: str = "",
               draft: Broadcast | None = None, count: tuple[int, int] | None = None):
    scope = scope_of(request[VIEWER])
    return page(request, "web/broadcast_form", active="thong-bao", title=web_text("broadcast.compose_title"), v=c.raw, errors=c.errors,
                provinces=_province_choices(scope), groups=[(g.id, g.name) for g in all_groups()], stars=STARS,
                topics=TOPICS, placeholders=templates.PLACEHOLDERS, preview=preview, notice=notice, draft=draft,
                count=count, scope_label=scope.label(), http_status=status)


async def listing(request):
    viewer, db = request[VIEWER], request[DB]
    tt = request.query.get("tt", "")
    q = select(Broadcast).order_by(Broadcast.id.desc()).limit(1000)
    if tt in STATUS:
        q = q.where(Broadcast.status == tt)
    items = [b for b in await db.scalars(q) if visible(viewer, b)][:200]
    counts = await list_counts(db, items)
    return page(request, "web/broadcasts", active="thong-bao", title=web_text("broadcast.title"), items=items, statuses=STATUS, tt=tt,
                summaries={b: sending.summary(c) for b, c in counts.items()}, describe=describe,
                local=lambda d: _local(request, d))


async def list_counts(db, items: list[Broadcast]) -> dict[int, dict[str, int]]:
    """Delivery counts per status of the broadcasts shown: a finished one's from its row (`counts`, written at
    'done'), the others in one grouped query (index ix_deliveries_broadcast on (broadcast_id, status)). A done
    broadcast without them (finished before migration 0010) gets them stored here once."""
    out: dict[int, dict[str, int]] = {b.id: dict(b.counts) for b in items if b.counts is not None}
    live = [b.id for b in items if b.counts is None]
    for i in range(0, len(live), 500):
        for bid, status, n in await db.execute(select(Delivery.broadcast_id, Delivery.status, func.count()).where(
                Delivery.broadcast_id.in_(live[i:i + 500])).group_by(Delivery.broadcast_id, Delivery.status)):
            out.setdefault(bid, {})[status] = n
    for b in items:
        out.setdefault(b.id, {})
        if b.counts is None and sending.final(b, out[b.id]):
            b.counts = out[b.id]
    return out


def _local(request, d: datetime | None) -> str:
    if d is None:
        return ""
    from storage.users import aware
    return f"{aware(d).astimezone(request.app[CORE].settings.tz):%H:%M %d/%m/%Y}"


async def new(request):
    viewer = request[VIEWER]
    did = parse_id(request.query.get("nhap", ""))
    if did:
        bc = await _broadcast_by_id(request, did)
        if bc is None or bc.status != "draft" or not may_manage(viewer, bc):
            return not_found(request)
        seg = bc.segment or {}
        exp = seg.get("expiring_before", "")
        raw = dict(text=bc.text, tinh=seg.get("provinces", []) if scope_of(viewer).national or
                   len(scope_of(viewer).provinces) > 1 else [], nhom=seg.get("groups", []),
                   sao=[str(s) for s in seg.get("stars", [])], chude=seg.get("topic", ""), het_han=exp, luc="")
        return _form_page(request, Composed(raw=raw), draft=bc)
    return _form_page(request, Composed(raw=dict(text="", tinh=[], nhom=[], sao=[], chude="", het_han="", luc="")))


async def _broadcast_by_id(request, bid: int) -> Broadcast | None:
    bc = await request[DB].get(Broadcast, bid)
    return bc if visible(request[VIEWER], bc) else None


async def count(request):
    """GET /thong-bao/dem?tinh=…&nhom=…&sao=…&chude=…&het_han=… -> {"count", "no_route", "segment"}."""
    core, scope = request.app[CORE], scope_of(request[VIEWER])
    c = read_form(request.query, scope, core.today(), core.settings.tz)
    if c.errors:
        return _json({"errors": c.errors}, 400)
    n, nr = await segment_count(request[DB], c.segment, scope)
    return _json({"count": n, "no_route": nr, "segment": describe(shown(c.segment, scope))})


def _json(data: dict, status: int = 200):
    from aiohttp import web
    return web.json_response(data, status=status)


async def compose(request):
    """POST /thong-bao/moi: action = xem-truoc | gui-thu | luu-nhap | gui-ngay | hen-gio."""
    core, viewer, db = request.app[CORE], request[VIEWER], request[DB]
    scope = scope_of(viewer)
    form = await request.post()
    action = str(form.get("action", ""))
    if action not in ("xem-truoc", "gui-thu", "luu-nhap", "gui-ngay", "hen-gio"):
        return bad_request(request, web_text("broadcast.unknown_action"), back=BASE + "/moi")
    draft = None
    if did := parse_id(str(form.get("nhap", ""))):
        draft = await _broadcast_by_id(request, did)
        if draft is None or draft.status != "draft" or not may_manage(viewer, draft):
            return not_found(request)
    c = read_form(form, scope, core.today(), core.settings.tz, need_when=action == "hen-gio")
    _check_text(c)
    if c.errors:
        return _form_page(request, c, status=400, draft=draft)
    if action == "gui-thu":
        return await _test(request, c, draft)
    if action == "luu-nhap":
        return await _save_draft(request, c, draft)
    prep = await sending.prepare(db, c.text, c.segment, scope)
    if prep.errors:
        c.errors["text"] = " ".join(prep.errors)
        return _form_page(request, c, status=400, draft=draft)
    if not prep.recipients:
        c.errors["segment"] = web_text("broadcast.nobody")
        return _form_page(request, c, status=400, draft=draft)
    if action == "xem-truoc":
        sample = prep.recipients[0]
        text = templates.render_message(c.text, sending.values_of(sample))
        return _form_page(request, c, draft=draft, count=(len(prep.recipients), len(prep.unreached)),
                          preview=dict(name=sample.name, html=Markup(text)))
    bc, errors = await sending.create(db, actor_user_id=viewer.user_id, text=c.text, segment=shown(c.segment, scope),
                                      scope=scope, scheduled_at=c.when if action == "hen-gio" else None, origin="web")
    if errors:
        c.errors["text"] = " ".join(errors)
        return _form_page(request, c, status=400, draft=draft)
    if draft is not None:
        await db.delete(draft)
    return redirect(f"{BASE}/{bc.id}")


async def _test(request, c: Composed, draft):
    """«Gửi thử cho tôi»: the message as the officer would receive it, to their own chat (delivery path)."""
    db, viewer = request[DB], request[VIEWER]
    user = await db.get(User, viewer.user_id)
    values = {"ten": user.display_name or "", "tinh": province_name(user.province) if user.province
              else ", ".join(viewer.names)}
    for p in templates.missing_values(templates.check(c.text), values):
        values[p] = f"[{templates.PLACEHOLDERS[p]}]"
    queued = await enqueue_user(db, viewer.user_id, Reply(templates.render_message(c.text, values)),
                                key=f"bctest:{viewer.user_id}:{secrets.token_hex(6)}", kind="notice")
    if not queued:
        c.errors["test"] = web_text("broadcast.no_own_chat")
        return _form_page(request, c, status=400, draft=draft)
    return _form_page(request, c, draft=draft, notice=web_text("broadcast.test_sent"))


async def _save_draft(request, c: Composed, draft):
    db, viewer = request[DB], request[VIEWER]
    seg = shown(c.segment, scope_of(viewer))
    if draft is None:
        draft = Broadcast(created_by=viewer.user_id, text=c.text, segment=seg, status="draft", total=0)
        db.add(draft)
    else:
        draft.text, draft.segment = c.text, seg
    await db.flush()
    await audit(db, viewer.user_id, "broadcast.draft", broadcast_id=draft.id, segment=seg, origin="web")
    return redirect(f"{BASE}/moi?nhap={draft.id}")


async def _report(db, bc: Broadcast) -> dict:
    c = dict(bc.counts) if bc.counts is not None else await sending.counts(db, bc.id)
    if bc.counts is None and sending.final(bc, c):
        bc.counts = c
    summ = sending.summary(c)
    total = bc.total
    done = total - summ["pending"] if bc.status != "scheduled" else 0
    pct = 100 if bc.status in ("done", "cancelled") or not total else round(100 * max(done, 0) / total)
    finished = bc.status in ("done", "cancelled") or (bc.status == "running" and summ["pending"] == 0)
    return dict(summary=summ, outcomes=sending.outcomes(c), percent=min(pct, 100), finished=finished,
                status=bc.status, status_label=STATUS.get(bc.status, bc.status), total=total, done=max(done, 0))


async def detail(request):
    bc = await _broadcast(request)
    if bc is None:
        return not_found(request)
    if bc.status == "draft":
        return redirect(f"{BASE}/moi?nhap={bc.id}") if may_manage(request[VIEWER], bc) else not_found(request)
    db = request[DB]
    rep = await _report(db, bc)
    per_channel = bc.channel_counts
    if per_channel is None:
        per_channel = await sending.channel_status_counts(db, bc.id)
        if bc.counts is not None:                    # final (see _report): kept on the row
            bc.channel_counts = per_channel
    per_channel = sending.channel_outcomes(per_channel)
    top = sum(rep["outcomes"].values())
    return page(request, "web/broadcast", active="thong-bao", title=web_text("broadcast.item_title", id=bc.id), bc=bc, r=rep,
                channels=per_channel, channel_names=CHANNELS, outcome_names=OUTCOME, top=top,
                manage=may_manage(request[VIEWER], bc), segment=describe(bc.segment or {}),
                when=_local(request, bc.scheduled_at), created=_local(request, bc.created_at))


async def progress(request):
    bc = await _broadcast(request)
    if bc is None:
        return _json({"error": web_text("broadcast.not_found")}, 404)
    rep = await _report(request[DB], bc)
    return _json({k: rep[k] for k in ("status", "status_label", "total", "done", "percent", "finished", "outcomes")})


async def cancel(request):
    bc = await _broadcast(request)
    if bc is None or not may_manage(request[VIEWER], bc):
        return not_found(request)
    if bc.status not in sending.ACTIVE:
        return bad_request(request, web_text("broadcast.not_cancellable", id=bc.id, status=STATUS.get(bc.status, bc.status)),
                           back=f"{BASE}/{bc.id}")
    if bc.status == "draft":
        await audit(request[DB], request[VIEWER].user_id, "broadcast.draft_delete", broadcast_id=bc.id)
        await request[DB].delete(bc)
        return redirect(BASE)
    await sending.cancel(request[DB], bc, request[VIEWER].user_id)
    return redirect(f"{BASE}/{bc.id}")


async def unreached_csv(request):
    bc = await _broadcast(request)
    if bc is None or not may_manage(request[VIEWER], bc):
        return not_found(request)
    return download(await sending.failures_csv(request[DB], bc.id), f"thong-bao-{bc.id}-chua-nhan.csv",
                    "text/csv; charset=utf-8")


def routes(r) -> None:
    r.nav("thong-bao", web_text("broadcast.title"), BASE)
    r.get("/thong-bao", listing)
    r.get("/thong-bao/moi", new)
    r.post("/thong-bao/moi", compose)
    r.get("/thong-bao/dem", count)
    r.get("/thong-bao/{id}", detail)
    r.get("/thong-bao/{id}/tien-do", progress)
    r.post("/thong-bao/{id}/huy", cancel)
    r.get("/thong-bao/{id}/chua-nhan.csv", unreached_csv)
