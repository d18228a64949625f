"""/cauhoi: officers answer questions of their province; the producer gets the answer; FAQ candidates."""
from sqlalchemy import select

from storage.models import AuditLog, Delivery, OfficerQuestion
from tests.helpers import button_data, msg, texts
from tests.people import add_person


async def test_answer_flow(db_url, make_core, sender, make_worker):
    core = make_core(db_url)
    await add_person(core, "ofx", role="dong_thap")
    await add_person(core, "ofy", role="hue")
    p = await add_person(core, "p1", province="dong_thap")
    async with core.sessionmaker() as s, s.begin():
        s.add(OfficerQuestion(user_id=p, province="dong_thap", question="Hồ sơ nộp ở đâu <xã>?"))
        s.add(OfficerQuestion(user_id=p, province="Huế", question="Câu hỏi Huế"))
        s.add(OfficerQuestion(user_id=p, province=None, question="Câu hỏi không rõ tỉnh"))
    t = texts(await core.handle(msg("/cauhoi", user="ofx")))
    assert "&lt;xã&gt;" in t and "Câu hỏi Huế" not in t and "không rõ tỉnh" not in t
    assert "Câu hỏi Huế" in texts(await core.handle(msg("/cauhoi", user="ofy")))
    t = texts(await core.handle(msg("/cauhoi", user="admin")))
    assert "không rõ tỉnh" in t and "Câu hỏi Huế" in t
    assert "không thể thao tác" in texts(await core.handle(msg(callback="q:a:1", user="ofy")))
    await core.handle(msg(callback="q:a:1", user="ofx"))
    replies = await core.handle(msg("Nộp tại UBND xã.", user="ofx"))
    assert "q:faq:1" in button_data(replies)
    assert "Đã đánh dấu" in texts(await core.handle(msg(callback="q:faq:1", user="ofx")))
    assert "đã được trả lời" in texts(await core.handle(msg(callback="q:a:1", user="ofx")))
    worker = make_worker(core, sender)
    await worker.drain(timeout=5)
    assert "Nộp tại UBND xã." in sender.to("p1")[0]
    async with core.sessionmaker() as s:
        q = await s.get(OfficerQuestion, 1)
        assert (q.status, q.faq_candidate, q.answer) == ("answered", True, "Nộp tại UBND xã.")
        assert (await s.scalar(select(Delivery))).key == "answer:1"
        assert set(await s.scalars(select(AuditLog.action))) == {"question.answer", "question.faq_mark"}
