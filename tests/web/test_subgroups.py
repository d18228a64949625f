"""QĐ 26 sub-groups (phân nhóm) in the register: import column, filter, product page edit, report table, export."""
from __future__ import annotations

import io
from datetime import date

import openpyxl
from aiohttp import FormData
from sqlalchemy import select

from storage.models import AuditLog, Certificate

HEADER = "Tên sản phẩm,Chủ thể,Xã/phường,Tỉnh/thành,Nhóm,Phân nhóm,Số sao,Số quyết định,Ngày công nhận"


def upload(text: str) -> FormData:
    form = FormData()
    form.add_field("file", text.encode(), filename="ds.csv", content_type="text/csv")
    return form


async def import_csv(console, text: str):
    form = upload(text)
    form.add_field("csrf", await console.csrf("/quantri/nhap"))
    r = await console.post("/quantri/nhap", form)
    assert r.status == 303
    return r.headers["Location"]


async def test_subgroup_imported_filtered_edited_and_reported(console):
    await console.as_("officer", "cao_bang")
    # a wrong sub-group (not of the row's group) and an unknown one are row errors; nothing is written
    where = await import_csv(console, "\n".join([
        HEADER, "Chè Shan tuyết,HTX Chè,Xã A,Cao Bằng,Đồ uống,Chè tươi chế biến,4,1/QĐ,5/3/2025",
        "Miến dong,HTX Miến,Xã B,Cao Bằng,Thực phẩm,Phân nhóm lạ,3,1/QĐ,5/3/2025"]))
    body = await (await console.get(where)).text()
    assert body.count('class="bad"') == 2 and "không thuộc nhóm Đồ uống" in body and "không có trong QĐ 26" in body
    # a good file: by name (diacritics optional), by score-sheet number, and empty
    where = await import_csv(console, "\n".join([
        HEADER, "Chè Shan tuyết,HTX Chè,Xã A,Cao Bằng,Thực phẩm,Chè tươi chế biến,4,1/QĐ,5/3/2025",
        "Miến dong,HTX Miến,Xã B,Cao Bằng,Thực phẩm,6,3,1/QĐ,5/3/2025",
        "Rượu ngô,HTX Rượu,Xã B,Cao Bằng,Đồ uống,,3,1/QĐ,5/3/2025"]))
    r = await console.post(where + "/xac-nhan")
    assert r.status == 200
    async with console.core.sessionmaker() as s:
        subs = {c.product: c.subgroup for c in await s.scalars(select(Certificate))}
    assert subs == {"Chè Shan tuyết": "che", "Miến dong": "che_bien_gao", "Rượu ngô": None}
    # the register filters by sub-group, and "-" for not recorded; a bad value is a clear 400
    body = await (await console.get("/quantri/san-pham?pn=che")).text()
    assert "Chè Shan tuyết" in body and "Miến dong" not in body and "Chè tươi, chế biến" in body
    body = await (await console.get("/quantri/san-pham?pn=-")).text()
    assert "Rượu ngô" in body and "Chè Shan" not in body
    assert (await console.get("/quantri/san-pham?pn=khong_co")).status == 400
    assert (await console.get("/quantri/san-pham?nhom=do_uong&pn=che")).status == 400
    ws = openpyxl.load_workbook(io.BytesIO(await (await console.get("/quantri/san-pham.xlsx?pn=che_bien_gao")).read())).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][rows[0].index("Phân nhóm")] == "Chế biến từ gạo, ngũ cốc"
    # the product page sets it (only one of the product's group), audited
    async with console.core.sessionmaker() as s:
        wine = await s.scalar(select(Certificate).where(Certificate.product == "Rượu ngô"))
    page = await (await console.get(f"/quantri/san-pham/{wine.id}")).text()
    assert 'value="ruou_trang"' in page and 'value="che"' not in page
    assert (await console.post(f"/quantri/san-pham/{wine.id}/phan-nhom", {"subgroup": "che"})).status == 400
    assert (await console.post(f"/quantri/san-pham/{wine.id}/phan-nhom", {"subgroup": "ruou_trang"})).status == 303
    async with console.core.sessionmaker() as s:
        assert (await s.get(Certificate, wine.id)).subgroup == "ruou_trang"
        assert await s.scalar(select(AuditLog).where(AuditLog.action == "web.subgroup")) is not None
    # the report has a sub-group table (page and XLSX) with the counts
    r = await console.get(f"/quantri/bao-cao.xlsx?tu=2025-01-01&den={date(2026, 11, 22).isoformat()}")
    sheet = [list(x) for x in openpyxl.load_workbook(io.BytesIO(await r.read()))["Theo phân nhóm"].iter_rows(
        values_only=True)]
    counts = {(row[0], row[1]): row[5] for row in sheet[1:-1]}
    assert counts[("Thực phẩm", "Chè tươi, chế biến")] == 1 and counts[("Đồ uống", "Rượu trắng")] == 1
    assert counts[("Thực phẩm", "Chế biến từ gạo, ngũ cốc")] == 1 and sheet[-1][-1] == 3
    assert ("Thực phẩm", "(chưa ghi phân nhóm)") not in counts
    # another province's officer cannot edit it
    await console.as_("officer", "dong_thap")
    assert (await console.post(f"/quantri/san-pham/{wine.id}/phan-nhom", {"subgroup": ""})).status == 404
