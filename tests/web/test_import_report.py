"""Import (dry run, marked cells, confirm, all or nothing) and the report's numbers on a known register."""
import io
from datetime import date

import openpyxl
from aiohttp import FormData
from sqlalchemy import func, select

from storage.models import AuditLog, Certificate, PlanTarget

HEADER = "Tên sản phẩm,Chủ thể,Xã/phường,Tỉnh/thành,Nhóm,Số sao,Số quyết định,Ngày công nhận,Loại hình chủ thể,Hình thức"
GOOD = [
    "Miến dong,HTX Miến,Xã Nguyên Bình,Cao Bằng,Thực phẩm,4,12/QĐ-UBND,5/3/2025,HTX,mới",
    "Trà xanh,Hộ bà Hoa,Xã Trà Lĩnh,Cao Bằng,Đồ uống,3,12/QĐ-UBND,5/3/2025,Hộ kinh doanh,Đánh giá lại",
]
BAD = [
    "Miến dong,HTX Miến,Xã Nguyên Bình,Cao Bằng,Thực phẩm,7,12/QĐ-UBND,5/3/2025,HTX,mới",
    "Trà xanh,Hộ bà Hoa,Xã Trà Lĩnh,Cao Bằng,Đồ uống,3,12/QĐ-UBND,31/2/2025,Hộ kinh doanh,Đánh giá lại",
]


def form(csv_text: str, name: str = "ds.csv"):
    def make(csrf):
        fd = FormData()
        fd.add_field("csrf", csrf)
        fd.add_field("file", csv_text.encode(), filename=name, content_type="text/csv")
        return fd
    return make


async def upload(console, csv_text, name="ds.csv"):
    r = await console.post("/quantri/nhap", form(csv_text, name)(await console.csrf("/quantri/nhap")), csrf=False)
    assert r.status == 303, await r.text()
    return r.headers["Location"]


async def count(console):
    async with console.core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(Certificate))


async def test_dry_run_marks_bad_cells_then_confirm_writes_all(console):
    await console.as_("officer", "cao_bang")
    loc = await upload(console, "\n".join([HEADER, BAD[0], GOOD[1], BAD[1]]))
    r = await console.get(loc)
    body = await r.text()
    assert r.status == 200 and "có lỗi ở 2 trên 3 dòng" in body
    assert body.count('class="bad"') == 2 and "số sao «7» không hợp lệ" in body and "Xác nhận" not in body
    body = await (await console.get(loc + "?loi=1")).text()
    assert "Trà xanh" in body and body.count('class="row-bad"') == 2 and "Hiện tất cả" in body
    # confirming a file with errors writes nothing
    assert (await console.post(loc + "/xac-nhan")).status == 303
    assert await count(console) == 0
    # the fixed file
    loc = await upload(console, "\n".join([HEADER, *GOOD]))
    body = await (await console.get(loc)).text()
    assert "Tệp hợp lệ: 2 dòng" in body and "Xác nhận nhập 2 dòng" in body
    assert await count(console) == 0                               # the dry run wrote nothing
    r = await console.post(loc + "/xac-nhan")
    assert r.status == 200 and "thêm mới <b>2</b>" in await r.text()
    async with console.core.sessionmaker() as s:
        certs = list(await s.scalars(select(Certificate).order_by(Certificate.product)))
        audit = await s.scalar(select(AuditLog).where(AuditLog.action == "web.import_certificates"))
    assert [(c.product, c.producer_type, c.recognition_kind) for c in certs] == [
        ("Miến dong", "htx", "new"), ("Trà xanh", "hkd", "reeval")]
    assert audit.detail["created"] == 2
    assert (await console.post(loc + "/xac-nhan")).status == 303     # a second confirm does nothing
    assert await count(console) == 2


async def test_import_scope_file_errors_and_template(console):
    await console.as_("officer", "cao_bang")
    other = GOOD[0].replace("Cao Bằng", "Đồng Tháp")
    body = await (await console.get(await upload(console, "\n".join([HEADER, other])))).text()
    assert "ngoài phạm vi" in body
    body = await (await console.get(await upload(console, "a,b\n1,2"))).text()
    assert "Chưa đọc được tệp" in body and "Thiếu cột" in body
    body = await (await console.get(await upload(console, "\x00\x01binary", "x.pdf"))).text()
    assert "không phải bảng tính" in body
    r = await console.post("/quantri/nhap", {"csrf": await console.csrf()}, csrf=False)
    assert r.status == 400 and "chưa chọn tệp" in await r.text()
    r = await console.get("/quantri/nhap/mau.xlsx")
    header = next(openpyxl.load_workbook(io.BytesIO(await r.read())).active.iter_rows(values_only=True))
    assert "Tên sản phẩm" in header and "Loại hình chủ thể" in header and "Ngày thu hồi" in header
    # someone else's upload is not visible
    loc = await upload(console, "\n".join([HEADER, *GOOD]))
    await console.as_("officer", "cao_bang")
    assert (await console.get(loc)).status == 404
    assert (await console.post(loc + "/xac-nhan")).status == 404


async def test_huge_upload_is_refused_politely(sqlite_console):
    console = sqlite_console
    await console.as_("officer")
    big = HEADER + "\n" + ("x" * 1000 + "\n") * 7000
    r = await console.post("/quantri/nhap", form(big)(await console.csrf()), csrf=False)
    body = await r.text()
    assert r.status in (400, 413) and "quá lớn" in body and "Traceback" not in body


async def test_report_numbers_against_a_known_register(console, today):
    today.value = date(2026, 12, 31)
    await console.add_certs([
        dict(product="A", stars=3, commune="Xã 1", producer="HTX 1", producer_type="htx", recognition_kind="new",
             recognized_on=date(2026, 2, 1)),
        dict(product="B", stars=4, commune="Xã 1", producer="HTX 1", producer_type="htx", recognition_kind="new",
             recognized_on=date(2026, 3, 1)),
        dict(product="C", stars=4, commune="Xã 2", producer="DN 2", producer_type="dn", recognition_kind="upgrade",
             group="do_uong", recognized_on=date(2026, 4, 1)),
        dict(product="D", stars=3, commune="Xã 2", producer="Hộ 3", producer_type="hkd", recognition_kind="reeval",
             recognized_on=date(2026, 5, 1)),
        dict(product="E", stars=3, commune="Xã 3", producer="Hộ 4", recognized_on=date(2023, 3, 1)),    # lapsed 2026
        dict(product="F", stars=3, commune="Xã 3", producer="Hộ 5", recognized_on=date(2023, 4, 1)),    # renewed ↓
        dict(product="F", stars=3, commune="Xã 3", producer="Hộ 5", decision_no="NEW", recognized_on=date(2026, 4, 2),
             recognition_kind="reeval"),
        dict(product="G", stars=4, commune="Xã 1", producer="HTX 6", producer_type="htx", revoked=True,
             revoked_on=date(2026, 8, 1), recognized_on=date(2025, 1, 1)),
        dict(product="Z", stars=5, province="Đồng Tháp", producer="HTX Z", recognized_on=date(2026, 1, 1)),
    ])
    await console.as_("officer", "cao_bang")
    r = await console.post("/quantri/bao-cao/chi-tieu", {"label": "Kế hoạch 2026", "due_on": "31/12/2026",
                                                         "target": "4", "stars": "4"})
    assert r.status == 303
    r = await console.post("/quantri/bao-cao/chi-tieu", {"due_on": "31/12/2026", "target": "abc"})
    assert r.status == 400
    r = await console.get("/quantri/bao-cao.xlsx?tu=2026-01-01&den=2026-12-31")
    wb = openpyxl.load_workbook(io.BytesIO(await r.read()))
    sheet = {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    assert len(wb.worksheets) == 10
    stars = sheet["Sao theo nhóm"]
    assert stars[0] == ["Nhóm sản phẩm", "3 sao", "4 sao", "5 sao", "Tổng"]
    assert stars[1][:5] == ["Thực phẩm", 3, 1, 0, 4] and stars[2][:5] == ["Đồ uống", 0, 1, 0, 1]
    assert stars[-1] == ["Tổng", 3, 2, 0, 5]                         # A B C D F(new); G revoked, E lapsed, Z other
    types = {row[0]: row[1] for row in sheet["Chủ thể theo loại hình"][1:]}
    assert types == {"Hợp tác xã": 1, "Tổ hợp tác": 0, "Doanh nghiệp": 1, "Hộ kinh doanh": 1,
                     "Chưa ghi loại hình": 1, "Tổng": 4}
    kinds = {row[0]: row[4] for row in sheet["Theo hình thức"][1:]}
    assert kinds == {"Công nhận mới": 2, "Đánh giá lại": 2, "Nâng hạng": 1, "Chưa ghi hình thức": 0, "Tổng": 5}
    lapsed = {row[0]: row[1] for row in sheet["Hết hạn và thu hồi"][1:]}
    assert lapsed == {"Hết hạn trong kỳ": 2, "— đã được công nhận lại": 1, "— chưa công nhận lại": 1,
                      "Bị thu hồi trong kỳ": 1}
    assert [row[0] for row in sheet["Chưa công nhận lại"][1:]] == ["E"]
    [target] = sheet["Chỉ tiêu và kết quả"][1:]
    assert target[4:] == [4, 2, "50.0%"]
    communes = {row[1]: row[5] for row in sheet["Theo xã phường"][1:-1]}
    assert communes == {"Xã 1": 2, "Xã 2": 2, "Xã 3": 1}
    body = await (await console.get("/quantri/bao-cao?tu=2026-01-01&den=2026-12-31")).text()
    assert "Kế hoạch 2026" in body and "50.0%" in body and "HTX Z" not in body
    async with console.core.sessionmaker() as s:
        t = await s.scalar(select(PlanTarget))
    assert (await console.post(f"/quantri/bao-cao/chi-tieu/{t.id}/xoa")).status == 303
    await console.as_("officer", "dong_thap")                        # another province cannot delete
    async with console.core.sessionmaker() as s:
        s.add(PlanTarget(province="Cao Bằng", label="x", due_on=date(2027, 1, 1), target=1))
        await s.commit()
        t = await s.scalar(select(PlanTarget))
    assert (await console.post(f"/quantri/bao-cao/chi-tieu/{t.id}/xoa")).status == 404
