"""Nhập danh sách /quantri/nhap: upload → dry run (errors row by row, bad cells marked, the GOV.UK Notify
way) → confirm. Writes all or nothing with the same importer and rules as `bot.py import-certificates`."""
from __future__ import annotations

from handlers.products.importer import COLUMNS, REQUIRED, import_certificates
from core.text import parse_id
from core.web.exports import XLSX_MIME, download, xlsx_bytes
from core.web.keys import CORE, DB, VIEWER
from core.templates import web_text
from core.web.render import bad_request, not_found, page, redirect
from core.audit import audit
from storage.models import WebUpload
from core.tabular import MAX_BYTES, read_table

PREVIEW_ROWS = 200
LABELS = {name: aliases[0] for name, aliases in COLUMNS.items()}


def _allowed(viewer):
    return None if viewer.national else set(viewer.provinces)


async def form(request):
    return page(request, "web/import_form", active="nhap", title=web_text("nav.imports"), labels=LABELS,
                required=REQUIRED, max_mb=MAX_BYTES // (1024 * 1024))


async def upload(request):
    post = await request.post()
    f = post.get("file")
    if f is None or not hasattr(f, "file") or not getattr(f, "filename", ""):
        return bad_request(request, web_text("console.no_file"), back="/quantri/nhap")
    data = f.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return bad_request(request, web_text("console.file_too_big", max_mb=MAX_BYTES // (1024 * 1024)),
                           back="/quantri/nhap")
    up = WebUpload(user_id=request[VIEWER].user_id, filename=str(f.filename)[:200], data=data, status="checked")
    request[DB].add(up)
    await request[DB].flush()
    return redirect(f"/quantri/nhap/{up.id}")


async def _own_upload(request) -> WebUpload | None:
    uid = parse_id(request.match_info["id"])
    up = await request[DB].get(WebUpload, uid) if uid else None
    return up if up is not None and up.user_id == request[VIEWER].user_id else None


def _table(up: WebUpload, report, only_errors: bool):
    rows, _ = read_table(up.data, up.filename, COLUMNS, REQUIRED)
    present = [name for name in COLUMNS if rows and name in rows[0].values]
    bad: dict[int, dict[str, list[str]]] = {}
    for e in report.errors:
        if e.line:
            bad.setdefault(e.line, {}).setdefault(e.field or "", []).append(e.message)
    shown = [r for r in rows if not only_errors or r.line in bad]
    return dict(columns=present, rows=shown[:PREVIEW_ROWS], more=max(0, len(shown) - PREVIEW_ROWS), bad=bad,
                bad_fields={f for problems in bad.values() for f in problems})


async def check(request):
    up = await _own_upload(request)
    if up is None:
        return not_found(request)
    viewer = request[VIEWER]
    only_errors = request.query.get("loi") == "1"
    report = await import_certificates(request[DB], up.data, up.filename, today=request.app[CORE].today(),
                                       dry_run=True, allowed_provinces=_allowed(viewer))
    table = _table(up, report, only_errors) if not report.file_error else None
    return page(request, "web/import_check", active="nhap", title=web_text("console.check_title"), up=up, r=report, t=table,
                only_errors=only_errors, labels=LABELS)


async def confirm(request):
    up = await _own_upload(request)
    if up is None:
        return not_found(request)
    if up.status != "checked":
        return redirect(f"/quantri/nhap/{up.id}")
    viewer, db = request[VIEWER], request[DB]
    report = await import_certificates(db, up.data, up.filename, today=request.app[CORE].today(),
                                       allowed_provinces=_allowed(viewer))
    if report.errors:                  # all or nothing: show the problems again, nothing written
        up_id = up.id
        await db.rollback()
        return redirect(f"/quantri/nhap/{up_id}")
    up.status = "imported"
    await audit(db, viewer.user_id, "web.import_certificates", file=up.filename, upload_id=up.id,
                total=report.total, created=report.created, updated=report.updated, unchanged=report.unchanged)
    return page(request, "web/import_done", active="nhap", title=web_text("console.imported_title"), up=up, r=report)


async def template(request):
    header = [LABELS[name] for name in COLUMNS]
    return download(xlsx_bytes([("Danh sach OCOP", header, [])]), "mau-danh-sach-ocop.xlsx", XLSX_MIME)


def routes(r) -> None:
    r.get("/nhap", form)
    r.post("/nhap", upload)
    r.get("/nhap/mau.xlsx", template)
    r.get("/nhap/{id}", check)
    r.post("/nhap/{id}/xac-nhan", confirm)
