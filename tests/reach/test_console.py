"""«Gọi điện» /quantri/goi-dien: the call list on the web console — scope, filters, «đã gọi» with a
note, CSV/XLSX, CSRF and bad input."""
import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from handlers.reach import calllist
from storage.models import AuditLog, CallListEntry
from tests.helpers import msg, texts
from tests.web.conftest import console, serve  # noqa: F401  (fixtures)


def row(key, province, product, reason="no_route", cert_id=None, phone=None, expires=date(2027, 3, 5), **kw):
    return dict(reminder_key=key, kind="cert", cert_id=cert_id, province=province, product=product,
                producer="HTX " + product, phone=phone, commune=kw.pop("commune", "Xã A"), expires_on=expires,
                due_on=date(2026, 9, 6), reason=reason, **kw)


async def seed(core):
    async with core.sessionmaker() as s, s.begin():
        await calllist.add(s, [
            row("cert:1:180", "Cao Bằng", "Miến dong", "phone_only", cert_id=1, phone="0912345678"),
            row("cert:1:125", "Cao Bằng", "Miến dong", "refused", cert_id=1, phone="0912345678"),
            row("cert:2:90", "cao_bang", "Trà Giảo", "no_route", cert_id=2, expires=date(2027, 1, 2)),
            row("cert:3:90", "Đồng Tháp", "Mắm tép", "no_zalo", cert_id=3, phone="0987654321"),
            row("cert:4:90", "Cao Bằng", "=HYPERLINK(\"x\")", "no_route", cert_id=4, expires=date(2027, 6, 1)),
        ])
    async with core.sessionmaker() as s:
        return {(e.product, e.reason): e.id for e in await s.scalars(select(CallListEntry))}


async def open_ids(core) -> set[int]:
    async with core.sessionmaker() as s:
        return set(await s.scalars(select(CallListEntry.id).where(CallListEntry.called_at.is_(None))))


async def test_officer_sees_own_province_marks_called_with_note_and_exports(console):
    core = console.core
    ids = await seed(core)
    await console.as_("officer", "cao_bang")
    r = await console.get("/quantri/goi-dien")
    body = await r.text()
    assert r.status == 200
    assert "Miến dong" in body and "Trà Giảo" in body and "Mắm tép" not in body and "0987654321" not in body
    assert body.index("Trà Giảo") < body.index("Miến dong")                     # soonest expiry first
    assert 'href="tel:0912345678"' in body and calllist.REASONS["refused"] in body  # latest row of cert 1
    assert 'href="/quantri/goi-dien"' in body and ">3</span>" in body            # menu badge: 3 certificates
    # a reason filter
    body = await (await console.get("/quantri/goi-dien?ly-do=no_route")).text()
    assert "Trà Giảo" in body and "Miến dong" not in body
    # «đã gọi» with a note closes both open rows of that certificate, and is recorded
    miendong = ids[("Miến dong", "refused")]
    r = await console.post(f"/quantri/goi-dien/{miendong}/da-goi", {"note": "Đã hẹn nộp hồ sơ", "back": "?ly-do="})
    assert r.status == 303 and r.headers["Location"] == "/quantri/goi-dien?ly-do="
    assert await open_ids(core) == {ids[("Trà Giảo", "no_route")], ids[("Mắm tép", "no_zalo")],
                                    ids[('=HYPERLINK("x")', "no_route")]}
    async with core.sessionmaker() as s:
        e = await s.get(CallListEntry, miendong)
        assert e.note == "Đã hẹn nộp hồ sơ" and e.called_by is not None
        a = await s.scalar(select(AuditLog).where(AuditLog.action == "call_list_called"))
        assert a.detail["entry"] == miendong and a.detail["rows"] == 2
    body = await (await console.get("/quantri/goi-dien")).text()
    assert "Miến dong" not in body and ">2</span>" in body
    body = await (await console.get("/quantri/goi-dien?tt=da-goi")).text()
    assert "Miến dong" in body and "Đã hẹn nộp hồ sơ" in body and "Trà Giảo" not in body
    # a second «đã gọi» is refused politely and changes nothing
    r = await console.post(f"/quantri/goi-dien/{miendong}/da-goi", {"note": "lần hai"})
    assert r.status == 400 and "đã được ghi nhận" in await r.text()
    # the bot's /canlienhe sees the same list
    assert "Miến dong" not in texts(await core.handle(msg("/canlienhe", user="admin")))
    # CSV: the province's open rows, a formula-looking name neutralised
    r = await console.get("/quantri/goi-dien.csv")
    assert r.status == 200 and "goi-dien.csv" in r.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    assert lines[0][3] == "sản phẩm" and [x[3] for x in lines[1:]] == ["Trà Giảo", "'=HYPERLINK(\"x\")"]
    r = await console.get("/quantri/goi-dien.xlsx?ly-do=no_route")
    ws = load_workbook(io.BytesIO(await r.read())).active
    assert ws.cell(row=2, column=4).value == "Trà Giảo" and ws.cell(row=3, column=4).data_type == "s"


async def test_scope_csrf_and_bad_input(console):
    core = console.core
    ids = await seed(core)
    before = await open_ids(core)
    dongthap, tra = ids[("Mắm tép", "no_zalo")], ids[("Trà Giảo", "no_route")]
    await console.as_("officer", "cao_bang")
    # another province's row: not visible (filter ignored), not changeable, not in the export
    body = await (await console.get("/quantri/goi-dien?tinh=Đồng Tháp")).text()
    assert "Mắm tép" not in body and "Trà Giảo" in body
    assert (await console.post(f"/quantri/goi-dien/{dongthap}/da-goi", {"note": "x"})).status == 404
    assert (await console.get("/quantri/goi-dien.csv?tinh=Đồng Tháp")).status == 403
    csv_text = (await (await console.get("/quantri/goi-dien.csv")).read()).decode("utf-8-sig")
    assert "Mắm tép" not in csv_text and "Trà Giảo" in csv_text
    # unknown / malformed ids, an unknown export format, junk filters
    for bad in ("999999", "abc", "-1", "1e9"):
        assert (await console.post(f"/quantri/goi-dien/{bad}/da-goi", {"note": "x"})).status == 404
    assert (await console.get("/quantri/goi-dien.pdf")).status == 404
    r = await console.get("/quantri/goi-dien?tt=<script>&ly-do=zzz&tinh=%00")
    assert r.status == 200 and "<script>" not in await r.text()
    # a note over 300 characters: the page again with the message and the draft kept, nothing changed
    r = await console.post(f"/quantri/goi-dien/{tra}/da-goi", {"note": "dài " * 120})
    body = await r.text()
    assert r.status == 400 and "dài quá 300 ký tự" in body and "dài dài" in body
    # a redirect target outside the page is never followed
    r = await console.post(f"/quantri/goi-dien/{tra}/da-goi", {"note": "", "back": "//evil.example/"})
    assert r.status == 303 and r.headers["Location"] == "/quantri/goi-dien"
    before.discard(tra)
    # CSRF: no token, a wrong token, a foreign Origin — nothing changes
    cb = ids[('=HYPERLINK("x")', "no_route")]
    assert (await console.post(f"/quantri/goi-dien/{cb}/da-goi", {"note": "x"}, csrf=False)).status == 403
    assert (await console.post(f"/quantri/goi-dien/{cb}/da-goi", {"note": "x", "csrf": "sai"})).status == 403
    assert (await console.post(f"/quantri/goi-dien/{cb}/da-goi", {"note": "x"},
                               headers={"Origin": "http://evil.example"})).status == 403
    assert await open_ids(core) == before
    # not signed in: asked to sign in, nothing shown or changed
    console.client.session.cookie_jar.clear()
    r = await console.get("/quantri/goi-dien")
    assert r.status == 401 and "Miến dong" not in await r.text()
    assert (await console.client.post(f"/quantri/goi-dien/{cb}/da-goi", data={"note": "x"})).status == 401
    # someone who is not an officer
    await console.as_("none")
    assert (await console.get("/quantri/goi-dien")).status == 401
    # national officer: every province, and the province filter narrows
    await console.as_("national")
    body = await (await console.get("/quantri/goi-dien")).text()
    assert "Mắm tép" in body and "Miến dong" in body
    body = await (await console.get("/quantri/goi-dien?tinh=Đồng Tháp")).text()
    assert "Mắm tép" in body and "Miến dong" not in body
    r = await console.post(f"/quantri/goi-dien/{dongthap}/da-goi", {"note": "Không nghe máy"})
    assert r.status == 303
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(CallListEntry)
                              .where(CallListEntry.called_at.is_not(None))) == 2


async def test_open_count_matches_the_list(console):
    core = console.core
    await seed(core)
    async with core.sessionmaker() as s:
        for scope in (None, {"Cao Bằng"}, {"Đồng Tháp"}, {"Hà Nội"}):
            assert await calllist.open_count(s, scope) == len(await calllist.open_entries(s, scope))
