"""«Gọi điện» /quantri/goi-dien: the call list on the web console (the rows /canlienhe shows).

Producers no route reached (no_route, phone_only, refused, no_zalo…), soonest expiry first, filtered
by province (within the officer's scope) and reason, 50 a page (`?trang=N`: a page that is not a number
shows the first, one past the end the last; the filters stay in the page links). «Đã gọi» with an outcome note closes the row
(and the other open rows of that certificate) through `calllist.mark_called`; the CSV/XLSX download is
`calllist.export` (another province asked for: refused). Another province's row answers «không tìm
thấy» and is never changed; the list ignores a province filter outside the scope. The number of
open rows shows beside «Gọi điện» in the menu.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from multidict import MultiDict
from sqlalchemy import select

from core.audit import audit
from core.permissions import province_id_of, province_name
from core.text import parse_id
from core.web.exports import XLSX_MIME, download
from core.web.keys import DB, VIEWER
from core.templates import web_text, web_texts
from core.web.render import bad_request, error_page, not_found, page, qs, redirect
from handlers.reach import calllist
from storage.models import CallListEntry

BASE = "/quantri/goi-dien"
MAX_NOTE = 300
PAGE_SIZE = 50
MAX_PAGE = 100_000
VIEWS = web_texts("calls.view")


def scope(viewer) -> set[str] | None:
    return None if viewer.national else set(viewer.provinces)


async def open_count(db, viewer) -> int:
    return await calllist.open_count(db, scope(viewer))


def _filters(request, query=None) -> dict:
    viewer, p = request[VIEWER], request.query if query is None else query
    tinh = province_name(province_id_of(p.get("tinh", ""))) if p.get("tinh") else ""   # the name, as linked
    if tinh and not viewer.allows(province_id_of(tinh)):
        tinh = ""                                    # outside the scope: ignored, never widened
    reason = p.get("ly-do", "") if p.get("ly-do", "") in calllist.REASONS else ""
    view = p.get("tt", "mo") if p.get("tt", "mo") in VIEWS else "mo"
    return dict(tinh=tinh, ly_do=reason, tt=view)


def _params(f: dict) -> dict:
    """The filters as query parameters (what the page links, the exports and «đã gọi» carry)."""
    return {"tinh": f["tinh"], "ly-do": f["ly_do"], "tt": f["tt"] if f["tt"] != "mo" else ""}


def _page_number(value) -> int:
    """?trang=N: anything but a whole number from 1 on is the first page."""
    value = str(value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_PAGE else 1


def _provinces_of(request, f: dict) -> set[str] | None:
    return {province_id_of(f["tinh"])} if f["tinh"] else scope(request[VIEWER])


async def _entries(request, f: dict) -> list[calllist.Entry]:
    """Every row of the filters (the exports)."""
    provinces = _provinces_of(request, f)
    if f["tt"] == "mo":
        rows = await calllist.open_entries(request[DB], provinces)
    else:
        rows = [e for e in await calllist.open_entries(request[DB], provinces, include_called=True) if e.called_at]
    return [e for e in rows if not f["ly_do"] or e.reason == f["ly_do"]]


async def _listed_ids(request, f: dict) -> list[int]:
    """The same rows as `_entries`, as ids only (the page reads its 50)."""
    rows = await calllist.listed(request[DB], _provinces_of(request, f), include_called=f["tt"] != "mo")
    return [r.id for r in rows if (r.called == (f["tt"] != "mo")) and (not f["ly_do"] or r.reason == f["ly_do"])]


async def _provinces(request) -> list[str]:
    viewer = request[VIEWER]
    if not viewer.national:
        return viewer.names
    stored = await request[DB].scalars(select(CallListEntry.province).distinct())
    return sorted({province_name(v) for v in stored if v})


async def listing(request, *, error: str = "", draft: dict | None = None, http_status: int = 200, query=None):
    query = request.query if query is None else query
    f = _filters(request, query)
    ids = await _listed_ids(request, f)
    total = len(ids)
    pages = max(1, -(-total // PAGE_SIZE))
    trang = min(_page_number(query.get("trang")), pages)
    params = _params(f)
    entries = await calllist.by_ids(request[DB], ids[(trang - 1) * PAGE_SIZE:trang * PAGE_SIZE])
    return page(request, "web/call_list", active="goi-dien", title=web_text("calls.title"),
                entries=entries, total=total, f=f, views=VIEWS,
                reasons=calllist.REASONS, provinces=await _provinces(request), error=error, draft=draft or {},
                params=params, trang=trang, pages=pages, first=(trang - 1) * PAGE_SIZE + 1, query=qs(params),
                back=qs(params, trang=trang if trang > 1 else None), http_status=http_status)


async def export(request):
    fmt = request.match_info["fmt"]
    asked = request.query.get("tinh", "")
    if asked and not request[VIEWER].allows(province_id_of(asked)):
        return error_page(request, 403, "province_forbidden")
    f = _filters(request)
    entries = await _entries(request, f)
    await audit(request[DB], request[VIEWER].user_id, "call_list.export", rows=len(entries), province=f["tinh"])
    data = calllist.export(entries, fmt)
    return download(data, f"goi-dien.{fmt}", XLSX_MIME if fmt == "xlsx" else "text/csv; charset=utf-8")


async def mark(request):
    viewer = request[VIEWER]
    eid = parse_id(request.match_info["id"])
    entry = await calllist.get(request[DB], eid, scope(viewer)) if eid else None
    if entry is None:
        return not_found(request)
    form = await request.post()
    note = str(form.get("note", "")).strip()
    sent = str(form.get("back", ""))[:300]
    back = BASE + sent if sent.startswith("?") and sent.isprintable() and " " not in sent else BASE
    if entry.called_at is not None:
        return bad_request(request, web_text("calls.already_called", id=entry.id), back=back)
    if len(note) > MAX_NOTE:                         # the same page and filters again, the note kept
        return await listing(request, error=web_text("calls.note_too_long", max=MAX_NOTE),
                             draft={entry.id: note}, http_status=400,
                             query=MultiDict(parse_qsl(back[len(BASE) + 1:])))
    n = await calllist.mark_called(request[DB], entry.id, viewer.user_id, scope(viewer), note)
    if not n:                                        # closed meanwhile by someone else
        return bad_request(request, web_text("calls.already_called", id=entry.id), back=back)
    await audit(request[DB], viewer.user_id, "call_list_called", entry=entry.id, rows=n, note=note, source="web")
    return redirect(back)


def routes(r) -> None:
    r.nav("goi-dien", web_text("nav.calls"), BASE, badge=open_count)
    r.get("/goi-dien", listing)
    r.get("/goi-dien.{fmt:csv|xlsx}", export)
    r.post("/goi-dien/{id}/da-goi", mark)
