"""Regressions: what a producer reads after sending a question to an officer."""
from tests.helpers import msg, texts


async def test_sent_question_names_the_province_not_its_id(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/dangky"))
    await core.handle(msg("Hà Nội"))
    await core.handle(msg(callback="sub:gd"))
    await core.handle(msg(callback="sub:td"))
    await core.handle(msg(callback="m:lienhe"))
    t = texts(await core.handle(msg("Xin hỏi lịch đánh giá năm sau của xã tôi")))
    assert "(Hà Nội)" in t and "ha_noi" not in t
