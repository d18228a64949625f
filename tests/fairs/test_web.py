"""«Hội chợ» /quantri/hoi-cho: the same checks as /themhoicho, answers kept, scope, CSRF, seen by /hoicho."""
from sqlalchemy import func, select

from storage.models import Fair
from tests.helpers import msg, texts
from tests.web.conftest import console, serve  # noqa: F401  (fixtures)

GOOD = dict(name="Hội chợ OCOP Cao Bằng 2026", province="Cao Bằng", place="Quảng trường", start_date="10/12/2026",
            end_date="14/12/2026", registration_deadline="01/12/2026", organiser="Sở Nông nghiệp",
            contact="0912 345 678", link="https://ocop.example.vn", description="Gian hàng miễn phí")


async def _count(core):
    async with core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(Fair))


async def test_create_refuse_correct_edit_delete(console):
    core = console.core
    await console.as_("officer", "cao_bang")
    assert "Hội chợ" in await (await console.get("/quantri/hoi-cho")).text()
    for bad, field, why in ((dict(end_date="05/12/2026"), "end_date", "ngày kết thúc trước ngày bắt đầu"),
                            (dict(name="x" * 301), "name", "dài quá 300"),
                            (dict(link="ftp://x.vn"), "link", "http:// hoặc https://"),
                            (dict(start_date="32/13/2026"), "start_date", "ngày bắt đầu")):
        r = await console.post("/quantri/hoi-cho", {**GOOD, **bad})
        body = await r.text()
        assert r.status == 400 and why in body, (field, body[-2000:])
        assert 'value="Quảng trường"' in body and "0912 345 678" in body          # the other answers kept
        assert await _count(core) == 0
    r = await console.post("/quantri/hoi-cho", GOOD)
    assert r.status == 303
    async with core.sessionmaker() as s:
        fair = await s.scalar(select(Fair))
        assert (fair.province, fair.end_date.day) == ("cao_bang", 14)
    # the bot sees it at once
    assert "Hội chợ OCOP Cao Bằng 2026" in texts(await core.handle(msg("/hoicho", user="p1")))
    # edit: a bad value changes nothing; a good one is saved
    r = await console.post(f"/quantri/hoi-cho/{fair.id}", {**GOOD, "end_date": "01/01/2026"})
    assert r.status == 400
    r = await console.post(f"/quantri/hoi-cho/{fair.id}", {**GOOD, "place": "Nhà văn hoá"})
    assert r.status == 303
    async with core.sessionmaker() as s:
        assert (await s.get(Fair, fair.id)).place == "Nhà văn hoá"
    assert (await console.post(f"/quantri/hoi-cho/{fair.id}/xoa", {}, csrf=False)).status == 403
    assert await _count(core) == 1
    assert (await console.post(f"/quantri/hoi-cho/{fair.id}/xoa", {})).status == 303
    assert await _count(core) == 0


async def test_scope(console):
    core = console.core
    await console.as_("officer", "dong_thap")
    assert (await console.post("/quantri/hoi-cho", {**GOOD, "province": "Đồng Tháp"})).status == 303
    await console.as_("officer", "cao_bang")
    # a province outside the scope in the form is refused
    r = await console.post("/quantri/hoi-cho", GOOD | {"province": "Đồng Tháp"})
    assert r.status == 400 and "ngoài phạm vi" in await r.text()
    body = await (await console.get("/quantri/hoi-cho")).text()
    assert "Cao Bằng 2026" not in body
    for path in ("/quantri/hoi-cho/1",):
        assert (await console.get(path)).status == 404
    assert (await console.post("/quantri/hoi-cho/1", GOOD)).status == 404
    assert (await console.post("/quantri/hoi-cho/1/xoa", {})).status == 404
    assert await _count(core) == 1
    await console.as_("national")
    assert "Đồng Tháp" in await (await console.get("/quantri/hoi-cho")).text()
