"""Create, schedule and cancel broadcasts; count their deliveries; the failures CSV.

A broadcast becomes one delivery row per recipient (key "bc:<id>:<identity>", kind "broadcast")
in the single delivery path; a scheduled one gets next_attempt_at in the future. The officer's
progress message is a delivery row too (key "bc:<id>:progress"), edited in place later.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from handlers.broadcast import templates
from handlers.broadcast.segments import Recipient, Unreached, recipients, unreached
from core.messages import Reply
from core.templates import render
from delivery.queue import enqueue_rows
from core.audit import audit
from core.permissions import Scope, province_name
from storage.models import Broadcast, Delivery, Identity, User, utcnow

ACTIVE = ("draft", "scheduled", "running")


def values_of(r: Recipient) -> dict[str, str]:
    return {"ten": r.name, "tinh": province_name(r.province) if r.province else ""}


@dataclass
class Prepared:
    recipients: list[Recipient]
    errors: list[str]
    unreached: list[Unreached] = field(default_factory=list)


async def prepare(session, text: str, segment: dict, scope: Scope | None) -> Prepared:
    """Resolve recipients and check the text for all of them (nothing is written)."""
    checked = templates.check(text)
    if not checked.ok:
        return Prepared([], checked.errors)
    recips = await recipients(session, segment, scope)
    return Prepared(recips, templates.validate_for(checked, recips, values_of), await unreached(session, segment, scope))


async def create(session, *, actor_user_id: int | None, text: str, segment: dict, scope: Scope | None,
                 scheduled_at: datetime | None = None, progress_identity: Identity | None = None,
                 origin: str = "bot") -> tuple[Broadcast | None, list[str]]:
    """Record the broadcast and enqueue its rows; returns (broadcast, []) or (None, reasons)."""
    prep = await prepare(session, text, segment, scope)
    if prep.errors:
        return None, prep.errors
    if scheduled_at is not None:      # stored in UTC (SQLite keeps no offset)
        scheduled_at = scheduled_at.astimezone(timezone.utc)
    bc = Broadcast(created_by=actor_user_id, text=text, segment=segment,
                   status="scheduled" if scheduled_at else "running", scheduled_at=scheduled_at,
                   total=len(prep.recipients),
                   progress_identity_id=progress_identity.id if progress_identity else None)
    session.add(bc)
    await session.flush()
    now = utcnow()
    when = scheduled_at or now
    rows = [dict(key=f"bc:{bc.id}:{r.identity.id}", kind="broadcast", broadcast_id=bc.id,
                 identity_id=r.identity.id, channel=r.identity.channel, chat_id=r.identity.chat_id,
                 payload=Reply(templates.render_message(text, values_of(r))).to_payload(),
                 next_attempt_at=when)
            for r in prep.recipients]
    await enqueue_rows(session, rows)
    await enqueue_rows(session, [dict(              # counted as no_route, listed in the unreached CSV
        key=f"bc:{bc.id}:nr:{u.key}", kind="broadcast", broadcast_id=bc.id, identity_id=None, channel="none",
        chat_id=u.phone or "", status="no_route", next_attempt_at=when,
        payload={"user_id": u.user_id, "name": u.name, "province": u.province, "phone": u.phone})
        for u in prep.unreached])
    if progress_identity is not None:
        await enqueue_rows(session, [dict(
            key=f"bc:{bc.id}:progress", kind="progress", identity_id=progress_identity.id,
            channel=progress_identity.channel, chat_id=progress_identity.chat_id,
            payload=Reply(progress_text(bc, {})).to_payload(),
            next_attempt_at=when - timedelta(seconds=1))])            # due first: sent before the rows
    await audit(session, actor_user_id, "broadcast.schedule" if scheduled_at else "broadcast.send",
                broadcast_id=bc.id, segment=segment, total=bc.total, origin=origin,
                scheduled_at=scheduled_at.isoformat() if scheduled_at else None, text=text[:500])
    return bc, []


async def cancel(session, bc: Broadcast, actor_user_id: int | None) -> int:
    """Stop a scheduled or running broadcast: rows not yet sent become 'cancelled'."""
    res = await session.execute(update(Delivery).where(
        Delivery.broadcast_id == bc.id, Delivery.status.in_(("queued", "claimed")))
        .values(status="cancelled", last_error="cancelled by an officer")
        .execution_options(synchronize_session=False))
    await session.execute(update(Delivery).where(Delivery.key == f"bc:{bc.id}:progress",
                                                 Delivery.status == "queued")
                          .values(status="cancelled").execution_options(synchronize_session=False))
    bc.status = "cancelled"
    bc.finished_at = utcnow()
    await audit(session, actor_user_id, "broadcast.cancel", broadcast_id=bc.id, cancelled_rows=res.rowcount or 0)
    return res.rowcount or 0


async def counts(session, broadcast_id: int) -> dict[str, int]:
    rows = await session.execute(select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id)
                                 .group_by(Delivery.status))
    return {status: n for status, n in rows}


def summary(c: dict[str, int]) -> dict[str, int]:
    """sent / blocked / failed / pending / cancelled for progress and the report."""
    return {
        "sent": c.get("sent", 0),
        "blocked": c.get("blocked", 0) + c.get("opted_out", 0),
        "failed": sum(c.get(k, 0) for k in ("failed", "unknown", "outside_window", "quota", "unreachable")),
        "pending": sum(c.get(k, 0) for k in ("queued", "claimed", "sending")),
        "cancelled": c.get("cancelled", 0),
        "no_route": c.get("no_route", 0),
    }


# the report's reasons, in order (console bar and chat report): delivery statuses grouped
OUTCOMES = ("delivered", "blocked", "outside_window", "no_route", "failed", "unknown")
_OUTCOME_OF = {"sent": "delivered", "blocked": "blocked", "opted_out": "blocked", "unreachable": "blocked",
               "outside_window": "outside_window", "no_route": "no_route", "failed": "failed", "quota": "failed",
               "unknown": "unknown"}


def outcomes(c: dict[str, int]) -> dict[str, int]:
    """Status counts -> the six report outcomes (queued/claimed/sending/cancelled are not outcomes)."""
    out = dict.fromkeys(OUTCOMES, 0)
    for status, n in c.items():
        if status in _OUTCOME_OF:
            out[_OUTCOME_OF[status]] += n
    return out


async def channel_status_counts(session, broadcast_id: int) -> dict[str, dict[str, int]]:
    """Per channel ("none" for the people with no route): the delivery counts per status."""
    rows = await session.execute(select(Delivery.channel, Delivery.status, func.count())
                                 .where(Delivery.broadcast_id == broadcast_id)
                                 .group_by(Delivery.channel, Delivery.status))
    per: dict[str, dict[str, int]] = {}
    for channel, status, n in rows:
        per.setdefault(channel, {})[status] = n
    return per


def channel_outcomes(per: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Per channel: the report outcomes (see `outcomes`); channels with none left out.
    Broadcasts never use paid ZNS (channels.md §C7): the unreached CSV lets officers forward by other means."""
    out = {ch: outcomes(c) for ch, c in per.items()}
    return {ch: o for ch, o in out.items() if any(o.values())}


async def channel_counts(session, broadcast_id: int) -> dict[str, dict[str, int]]:
    return channel_outcomes(await channel_status_counts(session, broadcast_id))


def final(bc: Broadcast, c: dict[str, int]) -> bool:
    """Done (the progress job saw no row pending): its counts no longer change, so they are kept on the row.
    A cancelled one is always counted afresh: a row a worker had claimed may still end after the cancel."""
    return bc.status == "done" and not summary(c)["pending"]


def progress_text(bc: Broadcast, c: dict[str, int]) -> str:
    s = summary(c)
    return render("broadcast/progress", id=bc.id, done=s["sent"], total=bc.total, errors=s["blocked"] + s["failed"],
                  status=bc.status)


async def _register_phones(session, user_ids: set[int]) -> dict[int, str]:
    """A phone from the person's certificates (the province register) when they shared none."""
    from storage.models import Certificate
    out: dict[int, str] = {}
    ids = sorted(user_ids)
    for i in range(0, len(ids), 900):
        for uid, phone in await session.execute(select(Certificate.owner_user_id, Certificate.phone).where(
                Certificate.owner_user_id.in_(ids[i:i + 900]), Certificate.phone.is_not(None))):
            out.setdefault(uid, phone)
    return out


UNREACHED_HEADER = ["user_id", "ten", "tinh", "so_dien_thoai", "kenh", "chat_id", "trang_thai", "so_lan_thu", "loi"]


async def unreached_rows(session, broadcast_id: int) -> list[list]:
    """Every recipient that did not get the message (no route included): who, channel, status, error."""
    q = (select(Delivery.status, Delivery.channel, Delivery.chat_id, Delivery.last_error, Delivery.attempts,
                User.id, User.display_name, User.province, User.phone, Delivery.payload)
         .outerjoin(Identity, Identity.id == Delivery.identity_id).outerjoin(User, User.id == Identity.user_id)
         .where(Delivery.broadcast_id == broadcast_id, Delivery.status.notin_(("sent", "queued", "claimed", "sending")))
         .order_by(Delivery.id))
    rows = list(await session.execute(q))
    phones = await _register_phones(session, {r[5] or (r[9] or {}).get("user_id") for r in rows if not r[8]} - {None})
    out = []
    for status, channel, chat, err, attempts, uid, name, prov, phone, payload in rows:
        if uid is None:                 # a no_route row: who it was is in the payload
            p = payload or {}
            uid, name, prov, phone, chat = p.get("user_id"), p.get("name"), p.get("province"), p.get("phone"), ""
        out.append([uid or "", name or "", province_name(prov) if prov else "", phone or phones.get(uid, ""),
                    channel, chat, status, attempts, err or ""])
    return out


async def failures_csv(session, broadcast_id: int) -> bytes:
    from core.web.exports import csv_bytes
    return csv_bytes(UNREACHED_HEADER, await unreached_rows(session, broadcast_id))
