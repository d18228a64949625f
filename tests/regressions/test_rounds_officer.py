"""Regressions: officers adding evaluation rounds (/themdot)."""
from sqlalchemy import func, select

from storage.models import Conversation, EvaluationRound
from tests.helpers import msg, texts


async def test_same_round_sent_twice_is_not_doubled(db_url, make_core):
    core = make_core(db_url)
    line = "/themdot Đồng Tháp | Đợt 1 năm 2027 | 15/3/2027 | - | -"
    await core.handle(msg(line, user="admin"))
    t = texts(await core.handle(msg(line.replace("| - | -", "| 20/3/2027 | UBND xã"), user="admin")))
    assert "đã có" in t
    async with core.sessionmaker() as s:
        rounds = list(await s.scalars(select(EvaluationRound)))
        assert len(rounds) == 1 and rounds[0].where_to_submit == "UBND xã"


async def test_evaluation_date_before_deadline_is_refused_at_its_step(sqlite_url, make_core):
    core = make_core(sqlite_url)
    for t in ["/themdot", "Đồng Tháp", "Đợt 1 năm 2027", "15/3/2027"]:
        await core.handle(msg(t, user="admin"))
    t = texts(await core.handle(msg("1/3/2027", user="admin")))
    assert "phải sau hạn đăng ký" in t
    async with core.sessionmaker() as s:
        conv = await s.scalar(select(Conversation))
        assert conv.step == "evaluation"
    await core.handle(msg("20/3/2027", user="admin"))
    await core.handle(msg("UBND xã", user="admin"))
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(EvaluationRound)) == 1
