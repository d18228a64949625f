"""«Đợt đánh giá» /quantri/dot-danh-gia: check_round of /themdot, answers kept, scope, CSRF, seen by the bot."""
from sqlalchemy import func, select

from storage.models import EvaluationRound
from tests.helpers import msg, texts
from tests.web.conftest import console, serve  # noqa: F401  (fixtures)

GOOD = dict(province="Cao Bằng", name="Đợt 1 năm 2027", deadline="15/03/2027", evaluation="01/04/2027",
            where="Phòng Kinh tế xã")


async def _count(core):
    async with core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(EvaluationRound))


async def test_create_refuse_edit_delete(console):
    core = console.core
    await console.as_("officer", "cao_bang")
    for bad, why in ((dict(evaluation="01/03/2027"), "ngày đánh giá phải sau hạn đăng ký"),
                     (dict(name="x" * 201), "từ 3 đến 200 ký tự"),
                     (dict(deadline="01/01/2026"), "đã qua")):
        r = await console.post("/quantri/dot-danh-gia", {**GOOD, **bad})
        body = await r.text()
        assert r.status == 400 and why in body
        assert 'value="Phòng Kinh tế xã"' in body
        assert await _count(core) == 0
    assert (await console.post("/quantri/dot-danh-gia", GOOD)).status == 303
    async with core.sessionmaker() as s:
        rnd = await s.scalar(select(EvaluationRound))
    assert "Đợt 1 năm 2027" in texts(await core.handle(msg("/dotdanhgia Cao Bằng", user="p1")))
    r = await console.post(f"/quantri/dot-danh-gia/{rnd.id}", {**GOOD, "where": "UBND xã"})
    assert r.status == 303
    async with core.sessionmaker() as s:
        assert (await s.get(EvaluationRound, rnd.id)).where_to_submit == "UBND xã"
    assert (await console.post(f"/quantri/dot-danh-gia/{rnd.id}/xoa", {}, csrf=False)).status == 403
    assert (await console.post(f"/quantri/dot-danh-gia/{rnd.id}/xoa", {})).status == 303
    assert await _count(core) == 0


async def test_scope(console):
    core = console.core
    await console.as_("officer", "dong_thap")
    assert (await console.post("/quantri/dot-danh-gia", {**GOOD, "province": "Đồng Tháp"})).status == 303
    await console.as_("officer", "cao_bang")
    r = await console.post("/quantri/dot-danh-gia", {**GOOD, "province": "Đồng Tháp"})
    assert r.status == 400 and "ngoài phạm vi" in await r.text()
    assert "Đợt 1" not in await (await console.get("/quantri/dot-danh-gia")).text()
    assert (await console.get("/quantri/dot-danh-gia/1")).status == 404
    assert (await console.post("/quantri/dot-danh-gia/1", GOOD)).status == 404
    assert (await console.post("/quantri/dot-danh-gia/1/xoa", {})).status == 404
    assert await _count(core) == 1
