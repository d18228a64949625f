"""«Gọi điện» /quantri/goi-dien: the call list on the web console — scope, filters, «đã gọi» with a
note, CSV/XLSX, CSRF and bad input."""
import csv
import io
import re
from datetime import date, timedelta

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
            row("cert:1:180", "cao_bang", "Miến dong", "phone_only", cert_id=1, phone="0912345678"),
            row("cert:1:125", "cao_bang", "Miến dong", "refused", cert_id=1, phone="0912345678"),
            row("cert:2:90", "cao_bang", "Trà Giảo", "no_route", cert_id=2, expires=date(2027, 1, 2)),
            row("cert:3:90", "dong_thap", "Mắm tép", "no_zalo", cert_id=3, phone="0987654321"),
            row("cert:4:90", "cao_bang", "=HYPERLINK(\"x\")", "no_route", cert_id=4, expires=date(2027, 6, 1)),
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
        for scope in (None, {"cao_bang"}, {"dong_thap"}, {"ha_noi"}):
            assert await calllist.open_count(s, scope) == len(await calllist.open_entries(s, scope))


def shown_ids(body: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr id="e(\d+)">', body)]


async def test_pages_of_fifty_keep_the_filters_and_the_scope(console):
    """120 Cao Bằng rows (90 phone_only, 30 no_route) and 60 of Đồng Tháp: 50 a page, soonest expiry first,
    the filters in the page links and in «đã gọi»'s way back; a bad page number is the first page, one past
    the end the last; the exports keep every row; another province's rows are on no page."""
    core = console.core
    rows = [row(f"cert:{i}:90", "cao_bang", f"Sản phẩm {i:03d}", "phone_only" if i % 4 else "no_route",
                cert_id=i, phone=f"09{i:08d}", expires=date(2027, 1, 1) + timedelta(days=i)) for i in range(1, 121)]
    rows += [row(f"cert:{i}:90", "dong_thap", f"Mắm {i}", cert_id=i, expires=date(2026, 12, 1))
             for i in range(201, 261)]
    async with core.sessionmaker() as s, s.begin():
        await calllist.add(s, rows)
    async with core.sessionmaker() as s:
        by_cert = {e.cert_id: e.id for e in await s.scalars(select(CallListEntry))}
        foreign = {e.id for e in await s.scalars(select(CallListEntry).where(CallListEntry.province == "dong_thap"))}
    order = [by_cert[i] for i in range(1, 121)]                         # soonest expiry first
    await console.as_("officer", "cao_bang")
    pages = {}
    for n in (1, 2, 3):
        r = await console.get(f"/quantri/goi-dien?trang={n}")
        assert r.status == 200
        pages[n] = await r.text()
    assert [shown_ids(pages[n]) for n in (1, 2, 3)] == [order[:50], order[50:100], order[100:]]
    assert "Trang 1/3" in pages[1] and 'href="/quantri/goi-dien?trang=2"' in pages[1] and 'rel="prev"' not in pages[1]
    assert 'href="/quantri/goi-dien"' in pages[2] and 'href="/quantri/goi-dien?trang=3"' in pages[2]
    assert "Trang 3/3" in pages[3] and 'rel="next"' not in pages[3]
    assert '<strong id="total">120 chủ thể</strong>' in pages[1]
    # «đã gọi» on page 3 comes back to page 3
    assert 'name="back" value="?trang=3"' in pages[3]
    # bad page numbers: the first page; past the end: the last; never an error
    for bad in ("abc", "0", "-2", "1.5", "", "%00", "9" * 30, "２"):
        r = await console.get(f"/quantri/goi-dien?trang={bad}")
        assert r.status == 200 and shown_ids(await r.text()) == order[:50], bad
    r = await console.get("/quantri/goi-dien?trang=99")
    assert r.status == 200 and shown_ids(await r.text()) == order[100:]
    # a filter stays across pages: 90 phone_only rows = 2 pages
    phone_only = [by_cert[i] for i in range(1, 121) if i % 4]
    body = await (await console.get("/quantri/goi-dien?ly-do=phone_only")).text()
    assert shown_ids(body) == phone_only[:50] and "Trang 1/2" in body
    assert 'href="/quantri/goi-dien?ly-do=phone_only&amp;trang=2"' in body
    body = await (await console.get("/quantri/goi-dien?ly-do=phone_only&trang=2")).text()
    assert shown_ids(body) == phone_only[50:] and 'href="/quantri/goi-dien?ly-do=phone_only"' in body
    assert 'name="back" value="?ly-do=phone_only&amp;trang=2"' in body
    # a province outside the scope asked for on any page: ignored, never widened
    for n in (1, 2, 3, 4):
        ids = shown_ids(await (await console.get(f"/quantri/goi-dien?tinh=Đồng Tháp&trang={n}")).text())
        assert ids and not set(ids) & foreign
    # «đã gọi» from page 2 of a filter: back to that page; a too-long note there shows that page with the draft
    target = phone_only[60]
    r = await console.post(f"/quantri/goi-dien/{target}/da-goi", {"note": "dài " * 120,
                                                                   "back": "?ly-do=phone_only&trang=2"})
    body = await r.text()
    assert r.status == 400 and target in shown_ids(body) and "dài dài" in body
    r = await console.post(f"/quantri/goi-dien/{target}/da-goi", {"note": "ok", "back": "?ly-do=phone_only&trang=2"})
    assert r.status == 303 and r.headers["Location"] == "/quantri/goi-dien?ly-do=phone_only&trang=2"
    # the exports keep every row of the filter, whatever the page
    lines = list(csv.reader(io.StringIO((await (await console.get("/quantri/goi-dien.csv?trang=2")).read())
                                        .decode("utf-8-sig"))))
    assert [int(x[0]) for x in lines[1:]] == [i for i in order if i != target]
    ws = load_workbook(io.BytesIO(await (await console.get("/quantri/goi-dien.xlsx?ly-do=no_route")).read())).active
    assert ws.max_row - 1 == 30
    # the national officer pages through every province: 179 open rows, 4 pages
    await console.as_("national")
    body = await (await console.get("/quantri/goi-dien?trang=4")).text()
    assert "Trang 4/4" in body and len(shown_ids(body)) == 179 - 150
    assert set(shown_ids(await (await console.get("/quantri/goi-dien")).text())) <= foreign   # Đồng Tháp expires first


async def test_listed_ids_are_the_rows_open_entries_lists(console):
    """The page's id list (`calllist.listed`) and the export's rows (`open_entries`) agree, called ones too."""
    core = console.core
    ids = await seed(core)
    async with core.sessionmaker() as s, s.begin():
        await calllist.mark_called(s, ids[("Trà Giảo", "no_route")], None)
    async with core.sessionmaker() as s:
        for scope in (None, {"cao_bang"}, {"dong_thap"}, {"ha_noi"}):
            for called in (False, True):
                full = await calllist.open_entries(s, scope, include_called=called)
                assert [(r.id, r.reason, r.called) for r in await calllist.listed(s, scope, include_called=called)] \
                    == [(e.id, e.reason, e.called_at is not None) for e in full]
                assert await calllist.by_ids(s, [e.id for e in full]) == full
