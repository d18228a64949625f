"""FAQ conversations over Telegram: real PTB, real core and FAQ content, the fake Bot API server."""
from sqlalchemy import select

from storage.models import FaqLog, Feedback, OfficerQuestion
from tests.fakes.telegram_html import parse_html
from tests.telegram.conftest import say, tap

CHAT = 909090


def data(message) -> list[str]:
    return [b["callback_data"] for b in message.buttons()]


async def rows(rt, model):
    await rt.core.writes.settled()              # a question's log row rides with the next group commit
    async with rt.core.sessionmaker() as s:
        return list(await s.scalars(select(model)))


async def test_question_with_and_without_diacritics(tg, start_bot, db_url):
    rt = await start_bot(db_url)
    [a] = await say(tg, CHAT, "Giấy chứng nhận OCOP có thời hạn bao lâu?")
    assert "36 tháng" in a.text and "Căn cứ:" in a.text and a.parse_mode == "HTML"
    assert data(a) == ["fq:up:thoi_han_gcn", "fq:dn:thoi_han_gcn"]
    [b] = await say(tg, CHAT, "gcn ocop co thoi han bao lau")
    assert "36 tháng" in b.text and "Căn cứ:" in b.text
    assert [log.outcome for log in await rows(rt, FaqLog)] == ["answer", "answer"]
    assert tg.rejected() == []


async def test_suggestion_tap_then_feedback(tg, start_bot):
    rt = await start_bot()
    [s] = await say(tg, CHAT, "ho so")
    assert "Có phải bạn muốn hỏi" in s.text and "fq:s:ho_so_gom_gi" in data(s)
    assert all(len(d.encode()) <= 64 for d in data(s))
    [answer] = await tap(tg, CHAT, data="fq:s:ho_so_gom_gi")
    assert "Căn cứ:" in answer.text and "fq:up:ho_so_gom_gi" in data(answer)
    [thanks] = await tap(tg, CHAT, label="Hữu ích")
    assert "Cảm ơn" in thanks.text
    [fb] = await rows(rt, Feedback)
    assert (fb.faq_id, fb.vote) == ("ho_so_gom_gi", 1)
    assert tg.open_callbacks == set() and len(tg.callback_answers) == 2
    assert tg.rejected() == []


async def test_out_of_scope_question_can_go_to_an_officer(tg, start_bot):
    rt = await start_bot()
    [m] = await say(tg, CHAT, "Thời tiết Hà Nội ngày mai thế nào?")
    assert "chưa có câu trả lời" in m.text and "Căn cứ" not in m.text
    [sent] = await tap(tg, CHAT, label="Gửi câu hỏi cho cán bộ")
    assert "Đã gửi câu hỏi" in sent.text
    [q] = await rows(rt, OfficerQuestion)
    assert q.question == "Thời tiết Hà Nội ngày mai thế nào?"
    assert tg.rejected() == []


async def test_user_text_with_markup_characters_is_escaped(tg, start_bot):
    await start_bot()
    await say(tg, CHAT, "<b>Giá</b> sản phẩm < 5 triệu & thuế?")
    [sent] = await tap(tg, CHAT, label="Gửi câu hỏi cho cán bộ")            # echoes the question back
    assert "<b>Giá</b> sản phẩm < 5 triệu & thuế?" in parse_html(sent.text)
    assert tg.rejected() == []


async def test_menu_faq_shows_popular_questions(tg, start_bot):
    await start_bot()
    await say(tg, CHAT, "/start")
    [intro] = await tap(tg, CHAT, label="Hỏi đáp OCOP")
    assert "Hỏi đáp OCOP" in intro.text and all(d.startswith("fq:s:") for d in data(intro))
    [answer] = await tap(tg, CHAT, data=data(intro)[0])
    assert "Căn cứ:" in answer.text
