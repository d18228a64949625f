"""Import fairs and evaluation rounds from a file on their pages: row-error view, all or nothing, scope,
CSRF, and the bot sees the rows at once (core/web/records.py)."""
from __future__ import annotations

import re

from aiohttp import FormData
from sqlalchemy import func, select

from storage.models import EvaluationRound, Fair
from tests.helpers import msg, texts
from tests.web.conftest import console, serve  # noqa: F401  (fixtures)

FAIR_HEAD = "Tên hội chợ,Tỉnh,Ngày bắt đầu,Ngày kết thúc,Đường dẫn,Địa điểm\n"
GOOD_FAIR = "Hội chợ OCOP Cao Bằng 2026,Cao Bằng,10/12/2026,14/12/2026,https://ocop.example.vn,Quảng trường\n"
BAD_FAIRS = ("Hội chợ kết thúc sớm,Cao Bằng,10/12/2026,05/12/2026,,\n"
             "Hội chợ đường dẫn lạ,Cao Bằng,10/12/2026,12/12/2026,ftp://x.vn,\n"
             + "x" * 301 + ",Cao Bằng,10/12/2026,12/12/2026,,\n"
             "Hội chợ Đồng Tháp,Đồng Tháp,10/12/2026,12/12/2026,,\n")


async def _count(core, model):
    async with core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def _upload(console, base: str, name: str, content: str, *, csrf: bool = True):
    form = FormData()
    if csrf:
        form.add_field("csrf", await console.csrf(base))
    form.add_field("file", content.encode(), filename=name, content_type="text/csv")
    return await console.post(f"{base}/nhap", form)


def _bad_cells(body: str) -> list[str]:
    return re.findall(r'<td class="bad">.*?</td>', body, re.S)


async def test_fair_import_marks_bad_rows_writes_nothing_then_imports(console):
    core = console.core
    await console.as_("officer", "cao_bang")
    assert "/quantri/hoi-cho/nhap" in await (await console.get("/quantri/hoi-cho")).text()
    assert (await console.get("/quantri/hoi-cho/nhap")).status == 200
    r = await _upload(console, "/quantri/hoi-cho", "hoi-cho.csv", FAIR_HEAD + GOOD_FAIR + BAD_FAIRS)
    assert r.status == 303
    check_url = r.headers["Location"]
    body = await (await console.get(check_url)).text()
    assert "có lỗi ở 4 trên 5 dòng" in body
    cells = " ".join(_bad_cells(body))
    for why in ("ngày kết thúc trước ngày bắt đầu", "http:// hoặc https://", "dài quá 300", "ngoài phạm vi"):
        assert why in cells, why
    assert 'id="dong-2"' in body and 'id="dong-2" class="row-bad"' not in body     # the good row is shown, unmarked
    only = await (await console.get(check_url + "?loi=1")).text()
    assert 'id="dong-2"' not in only and 'id="dong-3"' in only
    # confirming a file with errors writes nothing
    r = await console.post(check_url + "/xac-nhan", {})
    assert r.status == 303 and await _count(core, Fair) == 0
    # the corrected file: one new fair, confirmed, seen by the bot at once
    r = await _upload(console, "/quantri/hoi-cho", "hoi-cho.csv", FAIR_HEAD + GOOD_FAIR)
    url = r.headers["Location"]
    body = await (await console.get(url)).text()
    assert "Tệp hợp lệ: 1 dòng" in body and "thêm mới <b>1</b>" in body
    assert (await console.post(url + "/xac-nhan", {}, csrf=False)).status == 403       # CSRF
    assert await _count(core, Fair) == 0
    r = await console.post(url + "/xac-nhan", {})
    assert r.status == 200 and "Đã nhập" in await r.text()
    assert await _count(core, Fair) == 1
    assert "Hội chợ OCOP Cao Bằng 2026" in texts(await core.handle(msg("/hoicho", user="p1")))
    # the same file again updates instead of doubling; an imported upload is not written twice
    assert (await console.post(url + "/xac-nhan", {})).status == 303
    r = await _upload(console, "/quantri/hoi-cho", "hoi-cho.csv", FAIR_HEAD + GOOD_FAIR.replace("Quảng trường", "Sân vận động"))
    body = await (await console.get(r.headers["Location"])).text()
    assert "cập nhật <b>1</b>" in body
    await console.post(r.headers["Location"] + "/xac-nhan", {})
    async with core.sessionmaker() as s:
        assert [f.place for f in await s.scalars(select(Fair))] == ["Sân vận động"]
    # another officer cannot open this upload
    await console.as_("officer", "cao_bang")
    assert (await console.get(check_url)).status == 404
    assert (await console.post(check_url + "/xac-nhan", {})).status == 404


async def test_import_bad_input(console):
    await console.as_("officer", "cao_bang")
    assert (await _upload(console, "/quantri/hoi-cho", "a.csv", FAIR_HEAD + GOOD_FAIR, csrf=False)).status == 403
    r = await console.post("/quantri/hoi-cho/nhap", {})
    assert r.status == 400 and "chưa chọn tệp" in await r.text()
    r = await _upload(console, "/quantri/hoi-cho", "a.csv", "Địa điểm\nNhà văn hoá\n")
    body = await (await console.get(r.headers["Location"])).text()
    assert "Chưa đọc được tệp" in body and "Thiếu cột" in body
    assert (await console.get("/quantri/hoi-cho/nhap/abc")).status == 404
    r = await console.get("/quantri/hoi-cho/nhap/mau.xlsx")
    assert r.status == 200 and (await r.read())[:2] == b"PK"
    assert await _count(console.core, Fair) == 0


async def test_round_import(console):
    core = console.core
    await console.as_("officer", "cao_bang")
    head = "Tỉnh,Tên đợt,Hạn đăng ký,Ngày đánh giá,Nơi nộp hồ sơ\n"
    good = "Cao Bằng,Đợt 1 năm 2027,15/03/2027,01/04/2027,Phòng Kinh tế xã\n"
    bad = ("Cao Bằng,Đợt 2 năm 2027,15/09/2027,01/09/2027,\n"
           "Cao Bằng,Đợt cũ,01/01/2026,,\n"
           "Đồng Tháp,Đợt 1 năm 2027,15/03/2027,,\n"
           + good)
    r = await _upload(console, "/quantri/dot-danh-gia", "dot.csv", head + good + bad)
    url = r.headers["Location"]
    body = await (await console.get(url)).text()
    assert "có lỗi ở 4 trên 5 dòng" in body
    cells = " ".join(_bad_cells(body))
    for why in ("ngày đánh giá phải sau hạn đăng ký", "đã qua", "ngoài phạm vi", "trùng với dòng 2"):
        assert why in cells, why
    assert (await console.post(url + "/xac-nhan", {})).status == 303
    assert await _count(core, EvaluationRound) == 0
    r = await _upload(console, "/quantri/dot-danh-gia", "dot.csv", head + good)
    r = await console.post(r.headers["Location"] + "/xac-nhan", {})
    assert r.status == 200 and await _count(core, EvaluationRound) == 1
    assert "Đợt 1 năm 2027" in texts(await core.handle(msg("/dotdanhgia Cao Bằng", user="p1")))
    await console.as_("officer", "dong_thap")
    assert "Đợt 1 năm 2027" not in await (await console.get("/quantri/dot-danh-gia")).text()
