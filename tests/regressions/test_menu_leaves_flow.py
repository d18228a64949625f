"""Regressions: choosing a main-menu item in the middle of a flow."""
from sqlalchemy import func, select

from storage.models import Certificate, Conversation
from tests.helpers import msg, texts


async def test_question_after_menu_faq_is_not_taken_as_product_name(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg(callback="p:add"))
    await core.handle(msg(callback="m:faq"))
    t = texts(await core.handle(msg("giấy chứng nhận ocop có hiệu lực bao lâu")))
    assert "Bước 2/7" not in t
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Conversation)) == 0
        assert await s.scalar(select(func.count()).select_from(Certificate)) == 0


async def test_question_after_menu_faq_in_subscription_is_answered(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/dangky"))
    await core.handle(msg("Đồng Tháp"))
    await core.handle(msg(callback="m:faq"))
    t = texts(await core.handle(msg("giấy chứng nhận ocop có hiệu lực bao lâu")))
    assert "bấm các nút" not in t


async def test_menu_dossier_still_resumes(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/hoso"))
    await core.handle(msg(callback="d:a:goal:lan_dau"))
    assert "Bước 2/" in texts(await core.handle(msg(callback="m:hoso")))
