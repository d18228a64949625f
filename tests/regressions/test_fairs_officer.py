"""Regressions: the officer's /themhoicho flow and how fairs are shown."""
from sqlalchemy import func, select

from core.templates import render
from storage.models import Fair
from tests.helpers import button_data, msg, texts

INTERNAL = "gặp lỗi khi xử lý"
ANSWERS = ["Hội chợ OCOP Đồng Tháp 2026", "Đồng Tháp", "Sa Đéc", "10/12/2026", "14/12/2026", "1/12/2026",
           "0912345678", "-", "-"]


async def _to_confirm(core):
    await core.handle(msg("/capquyen console:admin Đồng Tháp", user="admin"))
    await core.handle(msg("/themhoicho", user="admin"))
    for t in ANSWERS:
        replies = await core.handle(msg(t, user="admin"))
    assert "f:save" in button_data(replies)


async def test_text_at_the_confirm_step_asks_again(db_url, make_core):
    core = make_core(db_url)
    await _to_confirm(core)
    replies = await core.handle(msg("lưu", user="admin"))        # typed instead of tapping «Lưu»
    assert INTERNAL not in texts(replies) and "f:save" in button_data(replies)
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Fair)) == 0
    replies = await core.handle(msg(callback="f:save", user="admin"))
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Fair)) == 1


async def test_fair_list_and_detail_keep_one_fact_per_line(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await _to_confirm(core)
    assert "Sa Đéc\n• 10/12/2026 – 14/12/2026\n• Hạn đăng ký" in texts(await core.handle(msg("x", user="admin")))
    await core.handle(msg(callback="f:save", user="admin"))
    await core.handle(msg("/themhoicho", user="admin"))
    for t in ["Phiên chợ nông sản", "Đồng Tháp", "-", "20/12/2026", "-", "-", "-", "-", "-"]:
        await core.handle(msg(t, user="admin"))
    await core.handle(msg(callback="f:save", user="admin"))
    listing = texts(await core.handle(msg("/hoicho")))
    assert "(hạn đăng ký 01/12/2026)\n• <b>Phiên chợ nông sản</b>" in listing
    assert "Đồng Tháp\nBấm vào" in listing
    detail = texts(await core.handle(msg(callback="f:d:1")))
    assert "14/12/2026\n📍 Sa Đéc" in detail


def test_broadcast_progress_has_two_lines():
    assert render("broadcast/progress", id=3, status="done", done=5, total=5, errors=0).split("\n") == [
        "📢 Thông báo #3 (xong)", "Đã gửi 5/5 · lỗi 0"]


async def test_year_9999_is_refused_when_typed(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/capquyen console:admin Đồng Tháp", user="admin"))
    await core.handle(msg("/themhoicho", user="admin"))
    for t in ["Hội chợ xa", "Đồng Tháp", "-"]:
        await core.handle(msg(t, user="admin"))
    t = texts(await core.handle(msg("31/12/9999", user="admin")))
    assert "năm 9999 không hợp lệ" in t
    t = texts(await core.handle(msg("/themdot Đồng Tháp | Đợt 1 | 31/12/9999", user="admin")))
    assert "năm 9999 không hợp lệ" in t


async def test_very_long_link_is_refused_not_an_error(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg("/themhoicho", user="admin"))
    answers = ["Hội chợ có đường dẫn dài", "Đồng Tháp", "-", "20/12/2026", "-", "-", "-",
               "https://example.vn/dang-ky?" + "a" * 600, "-"]
    t = "".join([texts(await core.handle(msg(a, user="admin"))) for a in answers])
    assert INTERNAL not in t and "500 ký tự" in t            # said at the link step, which is asked again
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Fair)) == 0
