"""Regressions: a message of only emoji or punctuation is not a question for an officer."""
from sqlalchemy import func, select

from storage.models import OfficerQuestion
from tests.helpers import button_data, msg, texts


async def test_thumbs_up_is_an_ok_and_punctuation_gets_a_hint(db_url, make_core):
    core = make_core(db_url)
    ok = await core.handle(msg("👍👍"))
    assert "Vâng ạ" in texts(ok)
    for text in ("???", "...", "😡😡", "!!!"):
        replies = await core.handle(msg(text))
        assert "chưa hiểu ý bạn" in texts(replies)
        assert not [d for d in button_data(replies) if d.startswith("fq:o:")]      # no "send to an officer"
        assert "m:faq" in button_data(replies)                                     # the menu instead
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(OfficerQuestion)) == 0


async def test_a_question_with_an_emoji_is_still_a_question(sqlite_url, make_core):
    core = make_core(sqlite_url)
    assert "36 tháng" in texts(await core.handle(msg("gcn ocop co thoi han bao lau 🤔")))
