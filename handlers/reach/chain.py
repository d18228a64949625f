"""The route chain of a reminder: one logical reminder, tried route by route until one works.

Routes, in order (re-read from the database at every step):
  1. the person's active Telegram (and console) identities, most recently used first;
  2. their active Zalo identities (an OA outside its 7-day window ends as `outside_window`
     without an API call; Bot Platform where the user has a chat);
  3. a ZNS template message to the phone (the owner's shared phone, else the register's), where
     ZNS is configured for the reminder kind, the offset is one of ZNS_OFFSETS and the phone has
     not refused or opted out;
  4. the officers' call list (handlers/reach/calllist.py), with the reason.

Each attempt is its own delivery row. The first route's key is the reminder key, the next ones
`<reminder key>><route>` (`>i12`, `>zns`), so a step taken twice (a hook and the reconcile pass)
creates nothing twice. A chain with a row that is live, sent or `unknown` (the process died during
the call: it may have arrived) never moves on, so exactly one message reaches the person.
The delivery worker calls `advance` when a row ends undelivered (permanent failure, or transient
failures past SEND_MAX_ATTEMPTS); `reconcile` (every sweep) repairs a step lost to a crash.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select

from delivery.queue import enqueue_rows
from handlers.reach import calllist, consent
from storage.models import CallListEntry, Delivery, Identity, utcnow

log = logging.getLogger("ocop.reach")

TIER = {"telegram": 0, "console": 0, "zalo": 1}
UNDELIVERED = ("failed", "blocked", "outside_window", "quota", "unreachable", "refused", "template_error",
               "zns_paused", "opted_out", "cancelled")
BLOCKING = ("queued", "claimed", "sending", "sent", "unknown")   # the chain must not move on
STATUS_REASON = {"outside_window": "outside_window", "blocked": "blocked", "failed": "failed",
                 "quota": "failed", "unreachable": "blocked", "refused": "refused", "opted_out": "opted_out",
                 "template_error": "template_error", "zns_paused": "billing", "cancelled": "failed"}
RECONCILE_DAYS = 45


@dataclass
class Target:
    """One due reminder, as the chain needs it."""
    key: str
    kind: str                         # cert | round
    offset: int
    due_on: date
    user_id: int | None
    phone: str | None                 # 0… (owner's shared phone first, else the register's)
    phone_basis: str                  # contact | register
    payload: dict                     # Reply payload for chat routes
    zns_params: dict | None           # None: no ZNS at this offset / for this kind
    call: dict = field(default_factory=dict)   # call-list fields (cert_id, province, product, …)

    def info(self) -> dict:
        return {"rk": self.key, "kind": self.kind, "offset": self.offset, "due_on": self.due_on.isoformat(),
                "user_id": self.user_id, "phone": self.phone, "basis": self.phone_basis,
                "zns": self.zns_params is not None, "call": self.call}


def full_payload(t: Target, settings) -> dict:
    out = dict(t.payload)
    out["reach"] = t.info()
    if t.zns_params is not None:
        out["zns"] = {"kind": t.kind, "template_id": settings.zns_template(t.kind), "params": t.zns_params}
    return out


def _zns_block(info: dict, settings, states: dict[str, str]) -> str:
    """'' when ZNS is a route for this reminder, else the call-list reason why not."""
    phone = info.get("phone")
    if not phone:
        return "no_route"
    st = states.get(phone)
    if st in ("refused", "opted_out"):
        return st
    if not (settings.zns_enabled and settings.zns_template(info["kind"])):
        return "zns_off"
    return "" if info.get("zns") else "phone_only"


def routes(info: dict, idents: list[Identity], settings, states: dict[str, str]) -> list[tuple[str, str, str, int | None]]:
    """[(route id, channel, chat_id, identity id)] in order."""
    out = []
    for ident in sorted((i for i in idents if i.active and i.channel in TIER),
                        key=lambda i: (TIER[i.channel], -(i.last_interaction_at.timestamp()
                                                          if i.last_interaction_at else 0), i.id)):
        out.append((f"i{ident.id}", ident.channel, ident.chat_id, ident.id))
    if not _zns_block(info, settings, states):
        from channels.zns import zns_phone
        zp = zns_phone(info["phone"])
        if zp:
            out.append(("zns", "zns", zp, None))
    return out


def _route_id(row: Delivery) -> str:
    return "zns" if row.channel == "zns" else f"i{row.identity_id}"


def route_key(rk: str, route_id: str, first: bool) -> str:
    return rk if first else f"{rk}>{route_id}"[:160]


def _delivery(info: dict, payload: dict, route, first: bool) -> dict:
    rid, channel, chat_id, ident = route
    return dict(key=route_key(info["rk"], rid, first), kind="reminder", identity_id=ident, channel=channel,
                chat_id=chat_id, payload=payload)


def _call_row(info: dict, reason: str, detail: str = "") -> dict:
    c = info.get("call") or {}
    exp = c.get("expires_on")
    return dict(reminder_key=info["rk"], kind=info["kind"], cert_id=c.get("cert_id"), user_id=info.get("user_id"),
                province=c.get("province") or "", product=(c.get("product") or "")[:200],
                producer=(c.get("producer") or "")[:200], phone=info.get("phone"), commune=c.get("commune"),
                expires_on=date.fromisoformat(exp) if exp else None, due_on=date.fromisoformat(info["due_on"]),
                reason=reason, detail=detail)


async def _identities(session, user_ids) -> dict[int, list[Identity]]:
    out: dict[int, list[Identity]] = {}
    ids = sorted({u for u in user_ids if u})
    for i in range(0, len(ids), 900):
        for ident in await session.scalars(select(Identity).where(Identity.user_id.in_(ids[i:i + 900]),
                                                                  Identity.active.is_(True))):
            out.setdefault(ident.user_id, []).append(ident)
    return out


async def plan(session, settings, targets: list[Target]) -> tuple[int, int]:
    """First step of new reminders: a delivery row on the first route, or a call-list row.
    Returns (deliveries enqueued, call-list rows added)."""
    idents = await _identities(session, [t.user_id for t in targets])
    if settings.zns_enabled:    # the phones' consent rows first (locked until commit): see reach/consent.py
        await consent.record_basis(session, {t.phone: t.phone_basis for t in targets if t.phone})
    states = await consent.states(session, [t.phone for t in targets])
    rows, calls = [], []
    for t in targets:
        info, payload = t.info(), full_payload(t, settings)
        rs = routes(info, idents.get(t.user_id, []), settings, states)
        if rs:
            rows.append(_delivery(info, payload, rs[0], True))
        else:
            calls.append(_call_row(info, _zns_block(info, settings, states) or "no_route"))
    return await enqueue_rows(session, rows), await calllist.add(session, calls)


async def _chain_rows(session, rk: str) -> list[Delivery]:
    return list(await session.scalars(select(Delivery).where(
        or_(Delivery.key == rk, Delivery.key.like(rk.replace("%", r"\%").replace("_", r"\_") + ">%", escape="\\")))
        .order_by(Delivery.id)))


def _reason(rows: list[Delivery], info: dict, settings, states) -> tuple[str, str]:
    zns = [r for r in rows if r.channel == "zns"]
    if zns:
        last = zns[-1]
        if last.status == "unreachable":
            m = re.match(r"zns (-\d+)", last.last_error or "")
            from channels.zns import ERRORS
            rule = ERRORS.get(int(m.group(1))) if m else None
            return (rule.reason if rule else "no_zalo"), last.last_error or ""
        return STATUS_REASON.get(last.status, "failed"), last.last_error or ""
    block = _zns_block(info, settings, states)
    if block and block != "no_route":
        return block, rows[-1].last_error or "" if rows else ""
    if rows:
        return STATUS_REASON.get(rows[-1].status, "failed"), rows[-1].last_error or ""
    return "no_route", ""


async def advance(session, settings, rk: str) -> str:
    """Next step of the chain `rk` after its latest row ended undelivered. Returns what it did:
    'busy' (a row is live / sent / unknown), 'next', 'call', 'listed' (already on the call list)."""
    rows = await _chain_rows(session, rk)
    if not rows or any(r.status in BLOCKING for r in rows):
        return "busy"
    info = (rows[0].payload or {}).get("reach")
    if not info:
        return "busy"                           # not a chained reminder (older rows)
    if await session.scalar(select(CallListEntry.id).where(CallListEntry.reminder_key == rk)):
        return "listed"
    idents = await _identities(session, [info.get("user_id")])
    if info.get("phone") and settings.zns_enabled:
        await consent.record_basis(session, {info["phone"]: info.get("basis") or "register"})
    states = await consent.states(session, [info.get("phone")])
    tried = {_route_id(r) for r in rows}
    nxt = [r for r in routes(info, idents.get(info.get("user_id"), []), settings, states) if r[0] not in tried]
    if nxt:
        await enqueue_rows(session, [_delivery(info, rows[0].payload, nxt[0], False)])
        return "next"
    reason, detail = _reason(rows, info, settings, states)
    await calllist.add(session, [_call_row(info, reason, detail)])
    return "call"


def install(worker, settings) -> None:
    """Let the delivery worker move a reminder to its next route when a row ends undelivered."""
    async def hook(row: Delivery, status: str, error: str) -> None:
        if row.kind != "reminder" or not (row.payload or {}).get("reach"):
            return
        async with worker.sessionmaker() as s, s.begin():
            await advance(s, settings, row.key.split(">", 1)[0])
    if not any(getattr(h, "reach_chain", False) for h in worker.on_undelivered):
        hook.reach_chain = True
        worker.on_undelivered.append(hook)


async def reconcile(session, settings) -> int:
    """Chains whose last row ended undelivered with no next step (a crash between the two)."""
    since = utcnow() - timedelta(days=RECONCILE_DAYS)
    keys = list(await session.execute(select(Delivery.key, Delivery.status).where(
        Delivery.kind == "reminder", Delivery.created_at >= since)))
    chains: dict[str, list[str]] = {}
    for key, status in keys:
        chains.setdefault(key.split(">", 1)[0], []).append(status)
    stuck = [rk for rk, sts in chains.items() if not any(s in BLOCKING for s in sts)]
    if not stuck:
        return 0
    listed = set()
    for i in range(0, len(stuck), 900):
        listed.update(await session.scalars(select(CallListEntry.reminder_key)
                                            .where(CallListEntry.reminder_key.in_(stuck[i:i + 900]))))
    n = 0
    for rk in stuck:
        if rk not in listed and await advance(session, settings, rk) in ("next", "call"):
            n += 1
    if n:
        log.warning("reach: %s reminder chain(s) repaired", n)
    return n
