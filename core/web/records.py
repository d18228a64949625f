"""An editable list of province-scoped rows the bot reads (fairs, evaluation rounds): list, create, edit,
delete, and import from a spreadsheet with the row-error view of «Nhập danh sách».

A feature describes its rows once with `Records` (its form fields, its check, how to find / create /
update a row, how to show one in the form); this module does the pages. Every field goes through the
feature's own check (the one its chat command uses): a refused form shows the reason beside each wrong
field and keeps every answer; an import is checked row by row and written all or nothing. Scope: a row
whose province is outside the viewer's is never listed or changeable (another id answers «không tìm
thấy»; a province outside the scope in a form or a file row is refused). The bot reads the same rows,
so every change reaches it at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from sqlalchemy import select

from core.audit import audit
from core.permissions import province_name
from core.reference import all_provinces
from core.tabular import MAX_BYTES, read_table
from core.text import parse_id
from core.web.exports import XLSX_MIME, download, xlsx_bytes
from core.web.keys import CORE, DB, VIEWER
from core.templates import validation, web_text
from core.web.render import bad_request, not_found, page, redirect
from storage.models import WebUpload

PREVIEW_ROWS = 200


@dataclass
class Checked:
    """One form or file row after the feature's check: values to write, or reasons per field."""
    values: Any = None
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Records:
    slug: str                                   # URL part: /quantri/<slug>
    title: str                                  # menu and page heading: "Hội chợ"
    noun: str                                   # "hội chợ" (form heading "Thêm hội chợ")
    model: type
    fields: list[str]                           # form fields, in order (the file columns are `columns`)
    labels: dict[str, str]
    list_template: str
    audit_prefix: str                           # "fair" → fair.web_save / fair.delete / fair.web_import
    check: Callable[[dict, Any], Checked]       # (raw strings or file cells, today) -> Checked
    province_of: Callable[[Any], str]           # checked values -> the province id written
    find: Callable[[Any, Any], Awaitable[Any]]  # (db, values) -> the same row already stored, or None
    create: Callable[[Any, Any, int], Awaitable[Any]]   # (db, values, user id) -> row
    update: Callable[[Any, Any], None]          # (row, values)
    to_form: Callable[[Any], dict]              # row -> form strings
    columns: dict[str, list[str]]               # import: field -> accepted header names (first is shown)
    required: set[str]
    key: Callable[[Any], tuple]                 # values -> what makes two rows the same (duplicates in a file)
    order: str                                  # the model column the list is sorted by, newest first
    clash: str = validation("records.duplicate")
    outside_scope: Callable[[str], str] = lambda province: validation("records.outside_scope", province=province)
    dates: set[str] = field(default_factory=set)
    long_text: set[str] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"/quantri/{self.slug}"


def _scope_error(viewer, kind: Records, checked: Checked) -> None:
    if checked.values is not None and not checked.errors and not viewer.allows(kind.province_of(checked.values)):
        checked.errors["province"] = kind.outside_scope(province_name(kind.province_of(checked.values)))


class Pages:
    """The request handlers of one `Records`."""

    def __init__(self, kind: Records):
        self.k = kind

    # --- list, form, save, delete ---------------------------------------------------------------
    async def _row(self, request):
        rid = parse_id(request.match_info["id"])
        row = await request[DB].get(self.k.model, rid) if rid else None
        return row if row is not None and request[VIEWER].allows(row.province) else None

    async def listing(self, request):
        viewer, m = request[VIEWER], self.k.model
        q = select(m)
        if not viewer.national:
            q = q.where(m.province.in_(sorted(viewer.provinces)))
        rows = list(await request[DB].scalars(q.order_by(getattr(m, self.k.order).desc(), m.id).limit(500)))
        return page(request, self.k.list_template, active=self.k.slug, title=self.k.title, rows=rows, k=self.k,
                    names=province_name, today=request.app[CORE].today())

    def _form(self, request, values: dict, errors: dict, row, status: int = 200):
        viewer = request[VIEWER]
        provinces = [(p.id, p.name) for p in all_provinces() if viewer.allows(p.id)]
        return page(request, "web/record_form", active=self.k.slug, title=self.k.title, k=self.k, v=values,
                    errors=errors, row=row, provinces=provinces, http_status=status)

    async def new(self, request):
        return self._form(request, {}, {}, None)

    async def edit(self, request):
        row = await self._row(request)
        return not_found(request) if row is None else self._form(request, self.k.to_form(row), {}, row)

    async def save(self, request):
        """POST base (create) or base/{id} (edit)."""
        row = None
        if "id" in request.match_info:
            row = await self._row(request)
            if row is None:
                return not_found(request)
        form = await request.post()
        raw = {k: str(form.get(k, "")).strip() for k in self.k.fields}
        checked = self.k.check(raw, request.app[CORE].today())
        _scope_error(request[VIEWER], self.k, checked)
        if checked.errors:
            return self._form(request, raw, checked.errors, row, 400)
        db, uid = request[DB], request[VIEWER].user_id
        if row is None:
            row = await self.k.create(db, checked.values, uid)
        else:
            other = await self.k.find(db, checked.values)
            if other is not None and other.id != row.id:
                return self._form(request, raw, {"name": self.k.clash}, row, 400)
            self.k.update(row, checked.values)
        await db.flush()
        await audit(db, uid, f"{self.k.audit_prefix}.web_save", **{f"{self.k.audit_prefix}_id": row.id},
                    name=row.name, province=row.province)
        return redirect(f"{self.k.base}#r{row.id}")

    async def delete(self, request):
        row = await self._row(request)
        if row is None:
            return not_found(request)
        await audit(request[DB], request[VIEWER].user_id, f"{self.k.audit_prefix}.delete",
                    **{f"{self.k.audit_prefix}_id": row.id}, name=row.name, province=row.province, via="web")
        await request[DB].delete(row)
        return redirect(self.k.base)

    # --- import: upload → row-by-row check (bad cells marked) → confirm, all or nothing ------------
    async def import_form(self, request):
        return page(request, "web/record_import_form", active=self.k.slug, title=web_text("records.import_title", noun=self.k.noun), k=self.k,
                    max_mb=MAX_BYTES // (1024 * 1024))

    async def upload(self, request):
        post = await request.post()
        f = post.get("file")
        back = f"{self.k.base}/nhap"
        if f is None or not hasattr(f, "file") or not getattr(f, "filename", ""):
            return bad_request(request, web_text("console.no_file"), back=back)
        data = f.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return bad_request(request, web_text("console.file_too_big", max_mb=MAX_BYTES // (1024 * 1024)), back=back)
        up = WebUpload(user_id=request[VIEWER].user_id, filename=str(f.filename)[:200], data=data, status="checked")
        request[DB].add(up)
        await request[DB].flush()
        return redirect(f"{back}/{up.id}")

    async def _upload(self, request) -> WebUpload | None:
        uid = parse_id(request.match_info["id"])
        up = await request[DB].get(WebUpload, uid) if uid else None
        return up if up is not None and up.user_id == request[VIEWER].user_id else None

    async def _check_file(self, request, up: WebUpload) -> dict:
        """Every row checked; -> file_errors, rows, bad {line: {field: [why]}}, good [(line, values)], new."""
        rows, problems = read_table(up.data, up.filename, self.k.columns, self.k.required)
        if problems:
            return dict(file_errors=[p.message for p in problems], rows=[], bad={}, good=[], new=0, columns=[])
        today, viewer = request.app[CORE].today(), request[VIEWER]
        bad, good, seen, new = {}, [], {}, 0
        for row in rows:
            checked = self.k.check(row.values, today)
            _scope_error(viewer, self.k, checked)
            if not checked.errors:
                key = self.k.key(checked.values)
                if key in seen:
                    checked.errors["name"] = validation("records.duplicate_line", line=seen[key])
                seen.setdefault(key, row.line)
            if checked.errors:
                bad[row.line] = {f: [why] for f, why in checked.errors.items()}
                continue
            good.append((row.line, checked.values))
            new += await self.k.find(request[DB], checked.values) is None
        columns = [c for c in self.k.columns if c in rows[0].values]
        return dict(file_errors=[], rows=rows, bad=bad, good=good, new=new, columns=columns)

    async def check(self, request):
        up = await self._upload(request)
        if up is None:
            return not_found(request)
        only_errors = request.query.get("loi") == "1"
        r = await self._check_file(request, up)
        shown = [row for row in r["rows"] if not only_errors or row.line in r["bad"]]
        return page(request, "web/record_import_check", active=self.k.slug, title=web_text("console.check_title"), k=self.k, up=up,
                    r=r, shown=shown[:PREVIEW_ROWS], more=max(0, len(shown) - PREVIEW_ROWS), only_errors=only_errors,
                    bad_fields=sorted({f for p in r["bad"].values() for f in p}))

    async def confirm(self, request):
        up = await self._upload(request)
        if up is None:
            return not_found(request)
        if up.status != "checked":
            return redirect(f"{self.k.base}/nhap/{up.id}")
        r = await self._check_file(request, up)
        if r["file_errors"] or r["bad"]:                # all or nothing: show the problems again
            return redirect(f"{self.k.base}/nhap/{up.id}")
        db, uid = request[DB], request[VIEWER].user_id
        created = 0
        for _, values in r["good"]:
            row = await self.k.find(db, values)
            if row is None:
                await self.k.create(db, values, uid)
                created += 1
            else:
                self.k.update(row, values)
        await db.flush()
        up.status = "imported"
        await audit(db, uid, f"{self.k.audit_prefix}.web_import", file=up.filename, upload_id=up.id,
                    total=len(r["good"]), created=created, updated=len(r["good"]) - created)
        return page(request, "web/record_import_done", active=self.k.slug, title=web_text("console.imported_title"), k=self.k, up=up,
                    total=len(r["good"]), created=created)

    async def template(self, request):
        header = [aliases[0] for aliases in self.k.columns.values()]
        return download(xlsx_bytes([(self.k.title, header, [])]), f"mau-{self.k.slug}.xlsx", XLSX_MIME)


def _handler(method):
    """A plain function around a bound method (the router marks handlers with attributes)."""
    async def handle(request):
        return await method(request)
    return handle


def register(r, kind: Records) -> Pages:
    """Menu entry and routes (the import's before the /{id} routes so «nhap» is not read as an id)."""
    p = Pages(kind)
    h = {name: _handler(getattr(p, name)) for name in ("import_form", "upload", "template", "check", "confirm",
                                                      "listing", "new", "edit", "save", "delete")}
    r.nav(kind.slug, kind.title, kind.base)
    base = f"/{kind.slug}"
    r.get(base + "/nhap", h["import_form"])
    r.post(base + "/nhap", h["upload"])
    r.get(base + "/nhap/mau.xlsx", h["template"])
    r.get(base + "/nhap/{id}", h["check"])
    r.post(base + "/nhap/{id}/xac-nhan", h["confirm"])
    r.crud(base, listing=h["listing"], new=h["new"], edit=h["edit"], save=h["save"], delete=h["delete"])
    return p
