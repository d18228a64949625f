"""Every console page: content, filters, exports, product page, scope matrix, bad input."""
import csv
import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from storage.models import AuditLog, Certificate, Code, Delivery, Identity, Reminder, User

CB, DT = "Cao Bằng", "Đồng Tháp"


async def seed(console):
    """A small known register in two provinces."""
    return await console.add_certs([
        dict(product="Miến dong Nguyên Bình", producer="HTX Miến dong", stars=4, commune="Xã Nguyên Bình",
             producer_type="htx", recognition_kind="new", recognized_on=date(2026, 3, 1)),
        dict(product="Trà Giảo cổ lũng", producer="Hộ Nông Thị Hoa", stars=3, commune="Xã Trà Lĩnh", group="do_uong",
             producer_type="hkd", recognition_kind="reeval", recognized_on=date(2024, 6, 5)),
        dict(product="=HYPERLINK(\"http://x\")", producer="@evil", stars=3, commune="Xã Trà Lĩnh",
             recognized_on=date(2023, 12, 20)),                             # expires 20/12/2026: sắp hết hạn
        dict(product="Hạt dẻ Trùng Khánh", producer="HTX Hạt dẻ", stars=5, commune="Xã Trùng Khánh",
             producer_type="htx", recognition_kind="upgrade", recognized_on=date(2026, 6, 10)),
        dict(product="Xoài cát Hòa Lộc", producer="HTX Xoài", stars=4, province=DT, commune="Xã Hòa Lộc",
             producer_type="htx", recognized_on=date(2025, 5, 5)),
    ])


async def test_overview_register_and_exports_for_a_provincial_officer(console):
    ids = await seed(console)
    await console.as_("officer", "cao_bang")
    body = await (await console.get("/quantri/")).text()
    assert "Cao Bằng" in body and "Xoài" not in body
    r = await console.get("/quantri/san-pham")
    body = await r.text()
    assert r.status == 200 and "Miến dong Nguyên Bình" in body and "Xoài cát" not in body
    assert "&#34;http://x&#34;" in body or "&quot;http://x&quot;" in body     # escaped, not markup
    # diacritic-insensitive search, and filters
    body = await (await console.get("/quantri/san-pham?q=mien dong")).text()
    assert "Miến dong" in body and "Trà Giảo" not in body
    body = await (await console.get("/quantri/san-pham?q=TRÙNG khanh")).text()
    assert "Hạt dẻ" in body and "Miến" not in body
    body = await (await console.get("/quantri/san-pham?sao=3&xa=Xã Trà Lĩnh")).text()
    assert "Trà Giảo" in body and "Miến" not in body
    body = await (await console.get("/quantri/san-pham?tt=sap-het-han")).text()
    assert "HYPERLINK" in body and "Trà Giảo" not in body
    # the export has exactly the filtered rows, formula-safe
    r = await console.get("/quantri/san-pham.xlsx?sao=3")
    assert r.status == 200 and r.headers["Content-Type"].startswith("application/vnd.openxml")
    ws = openpyxl.load_workbook(io.BytesIO(await r.read())).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][1] == "Tên sản phẩm" and len(rows) == 3
    names = {row[1] for row in rows[1:]}
    assert names == {"Trà Giảo cổ lũng", "'=HYPERLINK(\"http://x\")"}
    assert all(not str(v).startswith(("=", "@", "+", "-")) for row in rows[1:] for v in row if v is not None)
    r = await console.get("/quantri/san-pham.csv?q=giao")
    rows = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][1] == "Trà Giảo cổ lũng" and rows[1][3] == "Hộ kinh doanh"
    # product page of own province; another province's id is «not found»
    r = await console.get(f"/quantri/san-pham/{ids[0]}")
    assert r.status == 200 and "Miến dong Nguyên Bình" in await r.text()
    r = await console.get(f"/quantri/san-pham/{ids[4]}")
    assert r.status == 404 and "Xoài" not in await r.text()


async def test_register_pagination(console):
    await console.add_certs([dict(product=f"Sản phẩm {i:03d}", decision_no=f"Q{i}") for i in range(120)])
    await console.as_("national")
    body = await (await console.get("/quantri/san-pham")).text()
    assert "120 sản phẩm" in body and "Trang 1/3" in body and "trang=2" in body
    body = await (await console.get("/quantri/san-pham?trang=3")).text()
    assert "Trang 3/3" in body and body.count('href="/quantri/san-pham/') == 20


@pytest.mark.parametrize("kind", ["officer", "national", "admin", "none"])
async def test_scope_matrix(console, kind):
    ids = await seed(console)
    await console.as_(kind, "cao_bang")
    pages = ["/quantri/", "/quantri/san-pham", "/quantri/san-pham.xlsx", "/quantri/san-pham.csv",
             "/quantri/bao-cao", "/quantri/bao-cao.xlsx", "/quantri/nhap", f"/quantri/san-pham/{ids[0]}",
             f"/quantri/san-pham/{ids[4]}"]
    status = {p: (await console.get(p)).status for p in pages}
    if kind == "none":
        assert set(status.values()) == {401}
        return
    assert all(status[p] == 200 for p in pages[:-1]), status
    dt_ok = status[pages[-1]] == 200
    assert dt_ok == (kind != "officer")
    csv_rows = (await (await console.get("/quantri/san-pham.csv")).read()).decode("utf-8-sig")
    assert ("Xoài cát" in csv_rows) == (kind != "officer")
    report = await (await console.get("/quantri/bao-cao")).text()
    assert ("Xã Hòa Lộc" in report) == (kind != "officer")
    # an export parameter for another province: refused for the provincial officer
    r = await console.get(f"/quantri/san-pham.xlsx?tinh={DT}")
    assert r.status == (403 if kind == "officer" else 200)


async def test_two_provinces_do_not_see_each_other(console):
    ids = await seed(console)
    await console.as_("officer", "dong_thap")
    body = await (await console.get("/quantri/san-pham")).text()
    assert "Xoài cát" in body and "Miến dong" not in body
    assert (await console.get(f"/quantri/san-pham/{ids[0]}")).status == 404
    assert (await console.post(f"/quantri/san-pham/{ids[0]}/ma-nhan")).status == 404


async def test_bad_input_gets_a_vietnamese_page(console):
    await console.as_("officer")
    for url in ["/quantri/san-pham?sao=7", "/quantri/san-pham?trang=abc", "/quantri/san-pham?thang=2027-13",
                "/quantri/san-pham?nhom=xyz", "/quantri/san-pham?tinh=Atlantis", "/quantri/bao-cao?tu=hôm-qua",
                "/quantri/bao-cao?tu=2026-12-01&den=2026-01-01", "/quantri/san-pham.xlsx?tt=zzz"]:
        r = await console.get(url)
        body = await r.text()
        assert r.status == 400 and "Không có gì thay đổi" in body or "không hợp lệ" in body, url
        assert "Traceback" not in body
    for url in ["/quantri/san-pham/abc", "/quantri/san-pham/99999999999999999999", "/quantri/nhap/0"]:
        r = await console.get(url)
        assert r.status == 404 and "Traceback" not in await r.text()


async def test_product_page_claim_code_owner_and_reminders(console):
    ids = await seed(console)
    async with console.core.sessionmaker() as s:
        u = User(display_name="Chị Hoa")
        s.add(u)
        await s.flush()
        ident = Identity(user_id=u.id, channel="telegram", external_id="777", chat_id="777")
        s.add(ident)
        await s.flush()
        cert = await s.get(Certificate, ids[1])
        cert.owner_user_id = u.id
        s.add(Reminder(key=f"cert:{ids[1]}:x:90", kind="cert", ref_id=ids[1], user_id=u.id, offset_days=90,
                       due_on=date(2026, 10, 7)))
        s.add(Delivery(key=f"cert:{ids[1]}:x:90", kind="reminder", identity_id=ident.id, channel="telegram",
                       chat_id="777", payload={}, status="blocked", attempts=1, last_error="Forbidden"))
        await s.commit()
    uid = await console.as_("officer")
    body = await (await console.get(f"/quantri/san-pham/{ids[1]}")).text()
    assert "Chị Hoa" in body and "người nhận đã chặn bot" in body and "90 ngày" in body
    r = await console.post(f"/quantri/san-pham/{ids[0]}/ma-nhan")
    assert r.status == 303
    body = await (await console.get(f"/quantri/san-pham/{ids[0]}")).text()
    async with console.core.sessionmaker() as s:
        code = await s.scalar(select(Code).where(Code.purpose == "claim"))
        audit = await s.scalar(select(AuditLog).where(AuditLog.action == "web.claim_code"))
    assert code.ref["cert_ids"] == [ids[0]] and code.code in body and "/nhanma" in body
    assert audit.actor_user_id == uid
    await console.post(f"/quantri/san-pham/{ids[0]}/ma-nhan")          # a second press makes no second code
    async with console.core.sessionmaker() as s:
        assert len(list(await s.scalars(select(Code).where(Code.purpose == "claim")))) == 1
