"""«Câu hỏi» /quantri/cau-hoi: inbox, filters, answering through the chat command's delivery path, scope."""
from sqlalchemy import select

from storage.models import AuditLog, Delivery, Identity, OfficerQuestion, User
from tests.helpers import msg, texts
from tests.web.conftest import console, serve  # noqa: F401  (fixtures)


async def _producer(core, name="Chủ thể P", ext="7001"):
    async with core.sessionmaker() as s:
        u = User(display_name=name)
        s.add(u)
        await s.flush()
        s.add(Identity(user_id=u.id, channel="console", external_id=ext, chat_id=ext))
        await s.commit()
        return u.id


async def _questions(core, uid):
    async with core.sessionmaker() as s:
        for prov, text in (("cao_bang", "Hồ sơ nộp ở đâu <xã>?"), ("Đồng Tháp", "Câu hỏi Đồng Tháp"),
                           ("Cao Bằng", "Câu hỏi thứ hai Cao Bằng")):
            s.add(OfficerQuestion(user_id=uid, province=prov, question=text))
        await s.commit()


async def test_inbox_answer_faq_and_header_count(console, sender, make_worker):
    core = console.core
    uid = await _producer(core)
    await _questions(core, uid)
    await console.as_("officer", "cao_bang")
    r = await console.get("/quantri/cau-hoi")
    body = await r.text()
    assert r.status == 200 and "&lt;xã&gt;" in body and "Đồng Tháp" not in body
    assert body.index("Hồ sơ nộp") < body.index("thứ hai")                     # oldest first
    assert 'class="badge"' in body and ">2</span>" in body                      # open questions in the header
    # too short: clear message, nothing sent
    r = await console.post("/quantri/cau-hoi/1/tra-loi", {"answer": "x"})
    assert r.status == 400 and "ít nhất 2 ký tự" in await r.text()
    r = await console.post("/quantri/cau-hoi/1/tra-loi", {"answer": "Nộp tại UBND xã."})
    assert r.status == 303
    async with core.sessionmaker() as s:
        q = await s.get(OfficerQuestion, 1)
        assert (q.status, q.answer) == ("answered", "Nộp tại UBND xã.")
        d = await s.scalar(select(Delivery))
        assert d.key == "answer:1" and d.status == "queued"
    body = await (await console.get("/quantri/cau-hoi?tt=da-tra-loi")).text()
    assert "Nộp tại UBND xã." in body and "đang chờ gửi" in body and ">1</span>" in body
    # a second answer is refused and changes nothing
    r = await console.post("/quantri/cau-hoi/1/tra-loi", {"answer": "Khác"})
    assert r.status == 400
    worker = make_worker(core, sender)
    await worker.drain(timeout=5)
    assert "Nộp tại UBND xã." in sender.to("7001")[0]
    body = await (await console.get("/quantri/cau-hoi?tt=da-tra-loi")).text()
    assert "đã gửi" in body
    r = await console.post("/quantri/cau-hoi/1/faq", {"candidate": "1"})
    assert r.status == 303
    async with core.sessionmaker() as s:
        assert (await s.get(OfficerQuestion, 1)).faq_candidate is True
        assert {"question.answer", "question.faq_mark"} <= set(await s.scalars(select(AuditLog.action)))
    # the chat command sees the same row as answered
    assert "đã được trả lời" in texts(await core.handle(msg(callback="q:a:1", user="admin")))


async def test_scope_csrf_and_filters(console):
    core = console.core
    uid = await _producer(core)
    await _questions(core, uid)
    await console.as_("officer", "cao_bang")
    # another province's question: not visible, not answerable by URL, province filter ignored
    assert (await console.post("/quantri/cau-hoi/2/tra-loi", {"answer": "Trả lời lạ"})).status == 404
    assert (await console.post("/quantri/cau-hoi/2/faq", {"candidate": "1"})).status == 404
    body = await (await console.get("/quantri/cau-hoi?tinh=Đồng Tháp&tt=tat-ca")).text()
    assert "Câu hỏi Đồng Tháp" not in body
    # CSRF: a post without the token changes nothing
    r = await console.post("/quantri/cau-hoi/1/tra-loi", {"answer": "Không có mã"}, csrf=False)
    assert r.status == 403
    async with core.sessionmaker() as s:
        assert [q.status for q in await s.scalars(select(OfficerQuestion).order_by(OfficerQuestion.id))] == ["open"] * 3
        assert await s.scalar(select(Delivery)) is None
    await console.as_("national")
    body = await (await console.get("/quantri/cau-hoi?tinh=Đồng Tháp")).text()
    assert "Câu hỏi Đồng Tháp" in body and "Hồ sơ nộp" not in body
    body = await (await console.get("/quantri/cau-hoi?xep=moi-nhat")).text()
    assert body.index("thứ hai") < body.index("Hồ sơ nộp")
