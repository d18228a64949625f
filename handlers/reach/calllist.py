"""The officers' call list: reminders whose routes all failed or that had no route.

Repository functions (also for the web console): `open_entries`, `listed` + `by_ids` (a page of it),
`mark_called`, `export`.
One row per reminder (unique reminder key); the list shows each certificate once (its latest open
row) and "đã gọi" closes every open row of that certificate.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update

from core.reference import province_name
from core.templates import web_text, web_texts
from storage.models import CallListEntry, utcnow

REASONS = web_texts("calls.reason")
HEADERS = web_texts("calls.header")


@dataclass
class Entry:
    """What the call list shows for one row."""
    id: int
    province: str             # the official name (what the list and its file show)
    commune: str
    product: str
    producer: str
    phone: str
    expires_on: date | None
    due_on: date | None
    reason: str
    reason_label: str
    detail: str
    called_at: object
    note: str = ""


def _view(e: CallListEntry) -> Entry:
    return Entry(e.id, province_name(e.province), e.commune or "", e.product, e.producer, e.phone or "", e.expires_on,
                 e.due_on,
                 e.reason, REASONS.get(e.reason, e.reason), e.detail, e.called_at, e.note or "")


async def open_count(session, provinces: set[str] | None = None) -> int:
    """How many certificates (or reminders without one) the open list shows."""
    base = select(CallListEntry.kind, CallListEntry.cert_id).where(CallListEntry.called_at.is_(None))
    if provinces is not None:
        base = base.where(CallListEntry.province.in_(sorted(provinces)))
    with_cert = base.where(CallListEntry.cert_id.is_not(None)).distinct().subquery()
    without = base.where(CallListEntry.cert_id.is_(None)).subquery()
    a = await session.scalar(select(func.count()).select_from(with_cert)) or 0
    return a + (await session.scalar(select(func.count()).select_from(without)) or 0)


async def get(session, entry_id: int, provinces: set[str] | None = None) -> Entry | None:
    """One row, or None when unknown or outside the provinces."""
    e = await session.get(CallListEntry, entry_id)
    if e is None or (provinces is not None and e.province not in provinces):
        return None
    return _view(e)


async def add(session, rows: list[dict]) -> int:
    """Insert call-list rows (a reminder already listed is left alone)."""
    if not rows:
        return 0
    from handlers.reach.consent import _insert
    now = utcnow()
    for r in rows:
        r.setdefault("created_at", now)
        r.setdefault("detail", "")
        r.setdefault("note", "")
        r["detail"] = (r["detail"] or "")[:300]
    total = 0
    for i in range(0, len(rows), 500):
        res = await session.execute(_insert(session)(CallListEntry).values(rows[i:i + 500])
                                    .on_conflict_do_nothing(index_elements=["reminder_key"]))
        total += res.rowcount or 0
    return total


async def open_entries(session, provinces: set[str] | None = None, *, include_called: bool = False,
                       limit: int | None = None) -> list[Entry]:
    """Open rows (latest per certificate), soonest expiry first; provinces None = all."""
    q = select(CallListEntry)
    if not include_called:
        q = q.where(CallListEntry.called_at.is_(None))
    if provinces is not None:
        q = q.where(CallListEntry.province.in_(sorted(provinces)))
    q = q.order_by(CallListEntry.expires_on, CallListEntry.id.desc())
    seen, out = set(), []
    for e in await session.scalars(q):
        group = (e.kind, e.cert_id) if e.cert_id else (e.kind, e.reminder_key)
        if group in seen:
            continue
        seen.add(group)
        out.append(_view(e))
        if limit and len(out) >= limit:
            break
    return out


@dataclass
class Listed:
    """One row of the list, before its page is read: enough to filter, count and page."""
    id: int
    reason: str
    called: bool


async def listed(session, provinces: set[str] | None = None, *, include_called: bool = False) -> list[Listed]:
    """What `open_entries` lists, in its order, as (id, reason, called) only: a page reads its 50 rows with
    `by_ids` instead of building every row."""
    q = select(CallListEntry.id, CallListEntry.kind, CallListEntry.cert_id, CallListEntry.reminder_key,
               CallListEntry.reason, CallListEntry.called_at)
    if not include_called:
        q = q.where(CallListEntry.called_at.is_(None))
    if provinces is not None:
        q = q.where(CallListEntry.province.in_(sorted(provinces)))
    q = q.order_by(CallListEntry.expires_on, CallListEntry.id.desc())
    seen, out = set(), []
    for rid, kind, cert_id, key, reason, called_at in await session.execute(q):
        group = (kind, cert_id) if cert_id else (kind, key)
        if group not in seen:
            seen.add(group)
            out.append(Listed(rid, reason, called_at is not None))
    return out


async def by_ids(session, ids: list[int]) -> list[Entry]:
    """These rows, in this order."""
    rows = {e.id: e for e in await session.scalars(select(CallListEntry).where(CallListEntry.id.in_(ids)))} if ids else {}
    return [_view(rows[i]) for i in ids if i in rows]


async def mark_called(session, entry_id: int, officer_user_id: int | None, provinces: set[str] | None = None,
                      note: str = "") -> int:
    """'đã gọi': closes this row and the other open rows of the same certificate. 0 = not found / not
    in the officer's provinces."""
    e = await session.get(CallListEntry, entry_id)
    if e is None or (provinces is not None and e.province not in provinces):
        return 0
    cond = (CallListEntry.cert_id == e.cert_id) if e.cert_id else (CallListEntry.id == e.id)
    res = await session.execute(update(CallListEntry).where(cond, CallListEntry.called_at.is_(None))
                                .values(called_at=utcnow(), called_by=officer_user_id, note=note[:300])
                                .execution_options(synchronize_session=False))
    return res.rowcount or 0


def _cells(e: Entry) -> list:
    from core.web.exports import safe
    return [safe(v) for v in _raw(e)]


def _raw(e: Entry) -> list:
    return [e.id, e.province, e.commune, e.product, e.producer, e.phone,
            e.expires_on.strftime("%d/%m/%Y") if e.expires_on else "",
            e.due_on.strftime("%d/%m/%Y") if e.due_on else "", e.reason, e.reason_label,
            e.detail, e.called_at.isoformat() if e.called_at else "", e.note]


def export(entries: list[Entry], fmt: str = "csv") -> bytes:
    """CSV (UTF-8 with BOM, opens in Excel) or XLSX bytes; a cell never runs as a formula."""
    if fmt == "xlsx":
        from openpyxl import Workbook
        wb = Workbook()
        ws = wb.active
        ws.title = web_text("calls.sheet")
        ws.append(HEADERS)
        for e in entries:
            ws.append(_cells(e))
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    w.writerows(_cells(e) for e in entries)
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


CONSENT_REASONS = ("phone_only", "zns_off")      # what chain._zns_block says when the phone has not refused


async def refused_since(session, phone: str, attempt_key: str, detail: str) -> int:
    """Zalo refused the ZNS attempt `attempt_key` (a delivery key) to `phone` (0…): the phone's open rows
    decided since that attempt was queued, that only said «no ZNS now», were decided before the refusal
    was known (the attempt was still waiting) and get 'refused'. Rows decided before it keep their reason
    (it was the reason then). Returns rows changed."""
    from storage.models import Delivery
    queued_at = select(Delivery.created_at).where(Delivery.key == attempt_key).scalar_subquery()
    res = await session.execute(update(CallListEntry).where(
        CallListEntry.phone == phone, CallListEntry.called_at.is_(None), CallListEntry.reason.in_(CONSENT_REASONS),
        CallListEntry.created_at >= queued_at).values(reason="refused", detail=detail[:300])
        .execution_options(synchronize_session=False))
    return res.rowcount or 0
