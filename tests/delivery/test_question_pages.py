"""/cauhoi with many long questions is paged (one message per page, each with its buttons), never
split into messages whose last one, carrying every "Trả lời" button, Telegram could refuse."""
from __future__ import annotations

from storage.models import OfficerQuestion
from tests.fakes.telegram_html import parse_html
from tests.bulk import add_producers
from tests.telegram.conftest import say, tap

ADMIN = 1000            # telegram:1000 is an admin in the test settings (national scope)


async def test_ten_long_questions_are_paged(tg, start_bot, db_url):
    rt = await start_bot(db_url)
    await add_producers(rt.core.sessionmaker, 1)
    async with rt.core.sessionmaker() as s, s.begin():
        for i in range(10):
            s.add(OfficerQuestion(user_id=1, province="dong_thap",
                                  question=f"Câu hỏi số {i}: " + "Xin hỏi về hồ sơ đánh giá sản phẩm OCOP. " * 90))
    await say(tg, ADMIN, "/start")
    [first] = await say(tg, ADMIN, "/cauhoi")
    pages, seen = [first], set()
    while True:
        page = pages[-1]
        assert len(parse_html(page.text)) <= 4096
        answers = [b["callback_data"] for b in page.buttons() if b["callback_data"].startswith("q:a:")]
        assert answers, "every page carries its own answer buttons"
        seen.update(answers)
        nxt = [b for b in page.buttons() if b["callback_data"].startswith("q:p:") and "sau" in b["text"]]
        if not nxt:
            break
        assert len(pages) < 12
        [page] = await tap(tg, ADMIN, nxt[0]["callback_data"])
        pages.append(page)
    assert len(pages) > 1 and seen == {f"q:a:{i}" for i in range(1, 11)}
    assert any("trước" in b["text"] for b in pages[-1].buttons())
    assert "trang 2/" in pages[1].text
    assert tg.rejected() == []
    # answering from a page shows the whole question
    out = await tap(tg, ADMIN, "q:a:3")
    assert "Câu hỏi số 2" in "".join(parse_html(m.text) for m in out)
    assert "".join(parse_html(m.text) for m in out).count("Xin hỏi về hồ sơ") == 90
