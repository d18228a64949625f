"""«Thông báo» /quantri/thong-bao: the /thongbao rules and rows on the console; scope, CSRF, bad input."""
import csv
import io
from datetime import date

from sqlalchemy import func, select

from handlers.broadcast.progress import Progress
from storage.models import AuditLog, Broadcast, Certificate, Delivery, Identity, User
from tests.helpers import msg, texts
from tests.web.conftest import console, serve  # noqa: F401  (fixtures)

NEW = "/quantri/thong-bao/moi"


async def _producer(core, name, province, *, ext, active=True, stars=None):
    async with core.sessionmaker() as s:
        u = User(display_name=name, province=province)
        s.add(u)
        await s.flush()
        s.add(Identity(user_id=u.id, channel="console", external_id=ext, chat_id=ext, active=active))
        if stars:
            s.add(Certificate(owner_user_id=u.id, product=f"SP {name}", producer=name, province="Cao Bằng",
                              group="thuc_pham", stars=stars, decision_no=f"QĐ-{ext}", recognized_on=date(2025, 1, 10),
                              expires_on=date(2028, 1, 10)))
        await s.commit()
        return u.id


async def _world(core):
    """Cao Bằng: p1, p2 (4★), p4 (blocked the bot earlier), an unclaimed 4★ register entry; Đồng Tháp: p3."""
    await _producer(core, "Người p1", "cao_bang", ext="p1")
    await _producer(core, "Người p2", "Cao Bằng", ext="p2", stars=4)
    await _producer(core, "Người p3", "dong_thap", ext="p3")
    await _producer(core, "Người p4", "cao_bang", ext="p4", active=False)
    async with core.sessionmaker() as s:
        s.add(Certificate(product="Trà hoa vàng", producer="Hộ bà Lý", phone="0912000111", province="Cao Bằng",
                          group="do_uong", stars=4, decision_no="QĐ-9", recognized_on=date(2025, 2, 1),
                          expires_on=date(2028, 2, 1)))
        await s.commit()


async def _n(core, model, *where):
    async with core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_compose_count_preview_test_send_and_report(console, sender, make_worker):
    core = console.core
    await _world(core)
    officer = await console.as_("officer", "cao_bang")
    assert "Thông báo" in await (await console.get("/quantri/")).text()          # in the menu
    body = await (await console.get(NEW)).text()
    assert 'id="composer"' in body and "/quantri/static/broadcast.js" in body
    # the live count: the scope's province by default, then a filter
    r = await console.get("/quantri/thong-bao/dem")
    assert await r.json() == {"count": 2, "no_route": 2, "segment": "tỉnh: Cao Bằng"}
    data = await (await console.get("/quantri/thong-bao/dem?sao=4")).json()
    assert (data["count"], data["no_route"]) == (1, 1)
    data = await (await console.get("/quantri/thong-bao/dem?chude=hoi_cho")).json()
    assert (data["count"], data["no_route"]) == (0, 0)
    # a bad placeholder: refused with the reason, nothing saved
    r = await console.post(NEW, dict(text="Chào {{ ho_ten }}", action="gui-ngay"))
    body = await r.text()
    assert r.status == 400 and "Không có chỗ điền «{{ ho_ten }}»" in body and "Chào {{ ho_ten }}" in body
    assert await _n(core, Broadcast) == 0 and await _n(core, Delivery) == 0
    text = "Chào {{ ten }}, hội chợ ở {{ tinh }} <giảm 50%>"
    # preview: the message as the first recipient gets it
    r = await console.post(NEW, dict(text=text, action="xem-truoc"))
    body = await r.text()
    assert r.status == 200 and "Chào Người p1, hội chợ ở Cao Bằng &lt;giảm 50%&gt;" in body
    assert 'id="recipient-count">2<' in body and await _n(core, Broadcast) == 0
    # «gửi thử cho tôi»: a delivery row to the officer's own chat, no broadcast
    r = await console.post(NEW, dict(text=text, action="gui-thu"))
    assert r.status == 200 and "Đã gửi thử" in await r.text()
    async with core.sessionmaker() as s:
        test = await s.scalar(select(Delivery).where(Delivery.key.like(f"bctest:{officer}:%")))
        ident = await s.scalar(select(Identity).where(Identity.user_id == officer))
        assert (test.kind, test.chat_id, test.broadcast_id) == ("notice", ident.chat_id, None)
        assert "Chào Cán bộ A" in test.payload["text"]
    assert await _n(core, Broadcast) == 0
    # send now
    r = await console.post(NEW, dict(text=text, action="gui-ngay"))
    assert r.status == 303 and r.headers["Location"] == "/quantri/thong-bao/1"
    async with core.sessionmaker() as s:
        bc = await s.get(Broadcast, 1)
        assert (bc.status, bc.total, bc.segment, bc.created_by) == ("running", 2, {"provinces": ["cao_bang"]}, officer)
        rows = dict((await s.execute(select(Delivery.status, func.count()).where(Delivery.broadcast_id == 1)
                                     .group_by(Delivery.status))).all())
        assert rows == {"queued": 2, "no_route": 2}
        assert await s.scalar(select(AuditLog.action).where(AuditLog.action == "broadcast.send"))
    prog = await (await console.get("/quantri/thong-bao/1/tien-do")).json()
    assert (prog["status"], prog["percent"], prog["finished"]) == ("running", 0, False)
    body = await (await console.get("/quantri/thong-bao/1")).text()
    assert 'data-progress-url="/quantri/thong-bao/1/tien-do"' in body and "Huỷ thông báo" in body
    assert "đang gửi" in await (await console.get("/quantri/thong-bao")).text()
    # the delivery path sends; the progress hook finishes it and tells the officer's chat
    worker = make_worker(core, sender)
    worker.after_batch.append(Progress(core.sessionmaker, worker.senders).tick)
    await worker.drain(timeout=5)
    assert {c for c, _ in sender.sent} == {"p1", "p2"}
    prog = await (await console.get("/quantri/thong-bao/1/tien-do")).json()
    assert (prog["status"], prog["percent"], prog["finished"]) == ("done", 100, True)
    assert prog["outcomes"] == {"delivered": 2, "blocked": 0, "outside_window": 0, "no_route": 2, "failed": 0,
                                "unknown": 0}
    body = await (await console.get("/quantri/thong-bao/1")).text()
    assert "data-progress-url" not in body and "100 %" in body and "Không có kênh liên lạc" in body
    assert 'class="o-delivered" x="0%" y="0" width="50.0%"' in body
    async with core.sessionmaker() as s:
        report = await s.scalar(select(Delivery).where(Delivery.key == "bc:1:report"))
        assert "Không có kênh liên lạc (chưa dùng bot hoặc đã chặn): 2" in report.payload["text"]
    r = await console.get("/quantri/thong-bao/1/chua-nhan.csv")
    assert r.status == 200 and "thong-bao-1-chua-nhan.csv" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    assert rows[0][:4] == ["user_id", "ten", "tinh", "so_dien_thoai"]
    got = {(x[1], x[2], x[3], x[6]) for x in rows[1:]}
    assert got == {("Người p4", "Cao Bằng", "", "no_route"), ("Hộ bà Lý", "Cao Bằng", "0912000111", "no_route")}


async def test_schedule_cancel_and_draft_across_surfaces(console):
    core = console.core
    await _world(core)
    await console.as_("officer", "cao_bang")
    r = await console.post(NEW, dict(text="Tập huấn {{ tinh }}", action="luu-nhap", sao="4"))
    assert r.status == 303 and r.headers["Location"] == f"{NEW}?nhap=1"
    body = await (await console.get(f"{NEW}?nhap=1")).text()
    assert "nháp #1" in body and "Tập huấn {{ tinh }}" in body and 'value="4" checked' in body
    assert "nháp" in await (await console.get("/quantri/thong-bao?tt=draft")).text()
    r = await console.post(NEW, dict(text="Tập huấn {{ tinh }}", action="hen-gio", sao="4", luc="2026-12-20T08:00",
                                     nhap="1"))
    assert r.status == 303, await r.text()
    async with core.sessionmaker() as s:
        assert await s.get(Broadcast, 1) is None                         # the draft became broadcast #2
        bc = await s.get(Broadcast, 2)
        assert (bc.status, bc.total, bc.scheduled_at.hour) == ("scheduled", 1, 1)      # 08:00 UTC+7
    assert "đã hẹn giờ" in await (await console.get("/quantri/thong-bao")).text()
    assert (await console.post("/quantri/thong-bao/2/huy", {})).status == 303
    async with core.sessionmaker() as s:
        assert (await s.get(Broadcast, 2)).status == "cancelled"
        assert set(await s.scalars(select(Delivery.status).where(Delivery.broadcast_id == 2))) == {"cancelled",
                                                                                                   "no_route"}
    r = await console.post("/quantri/thong-bao/2/huy", {})
    assert r.status == 400 and "không huỷ được nữa" in await r.text()
    # a broadcast from the chat shows on the console; one from the console is cancelled in the chat
    async with core.sessionmaker() as s:
        ext = await s.scalar(select(Identity.external_id).join(User, User.id == Identity.user_id)
                             .where(User.display_name == "Cán bộ A").order_by(Identity.id.desc()))
    await core.handle(msg("/thongbao", user=ext, channel="telegram"))
    await core.handle(msg("Tin từ chat", user=ext, channel="telegram"))
    await core.handle(msg(callback="bc:now", user=ext, channel="telegram"))
    assert "Tin từ chat" in await (await console.get("/quantri/thong-bao")).text()
    r = await console.post(NEW, dict(text="Tin từ web", action="gui-ngay"))
    bid = int(r.headers["Location"].rsplit("/", 1)[1])
    assert "Đã huỷ thông báo" in texts(await core.handle(msg(callback=f"bc:cancel:{bid}", user=ext, channel="telegram")))
    assert "đã hủy" in await (await console.get(f"/quantri/thong-bao/{bid}")).text()


async def test_scope_matrix(console):
    core = console.core
    await _world(core)
    await console.as_("officer", "dong_thap")
    assert (await console.post(NEW, dict(text="Tin Đồng Tháp", action="gui-ngay"))).status == 303
    assert (await console.post(NEW, dict(text="Nháp Đồng Tháp", action="luu-nhap"))).status == 303
    for kind, province in (("officer", "cao_bang"), ("officer", "dong_thap")):
        await console.as_(kind, province)
        own = province == "dong_thap"                       # a colleague of the province: sees, cannot change
        body = await (await console.get("/quantri/thong-bao")).text()
        assert ("Tin Đồng Tháp" in body) is own
        assert (await console.get("/quantri/thong-bao/1")).status == (200 if own else 404)
        assert (await console.get("/quantri/thong-bao/1/tien-do")).status == (200 if own else 404)
        for path in ("/quantri/thong-bao/1/chua-nhan.csv", f"{NEW}?nhap=2", "/quantri/thong-bao/2"):
            assert (await console.get(path)).status == 404, path
        assert (await console.post("/quantri/thong-bao/1/huy", {})).status == 404
        assert (await console.post("/quantri/thong-bao/2/huy", {})).status == 404
        r = await console.post(NEW, dict(text="Sửa nháp", action="luu-nhap", nhap="2"))
        assert r.status == 404
    # a province outside the scope, in the form or the count
    await console.as_("officer", "cao_bang")
    r = await console.post(NEW, dict(text="Tin", action="gui-ngay", tinh="dong_thap"))
    assert r.status == 400 and "ngoài phạm vi" in await r.text()
    r = await console.get("/quantri/thong-bao/dem?tinh=dong_thap")
    assert r.status == 400 and "ngoài phạm vi" in (await r.json())["errors"]["tinh"]
    async with core.sessionmaker() as s:
        assert (await s.get(Broadcast, 1)).status == "running"
        assert (await s.get(Broadcast, 2)).text == "Nháp Đồng Tháp"
        assert await s.scalar(select(func.count()).select_from(Broadcast)) == 2
    await console.as_("national")
    body = await (await console.get("/quantri/thong-bao")).text()
    assert "Tin Đồng Tháp" in body and "Nháp Đồng Tháp" in body
    assert (await console.post("/quantri/thong-bao/1/huy", {})).status == 303
    await console.as_("none")
    assert (await console.get("/quantri/thong-bao")).status == 401


async def test_csrf_and_bad_input(console):
    core = console.core
    await _world(core)
    await console.as_("officer", "cao_bang")
    good = dict(text="Tin {{ ten }}", action="gui-ngay")
    assert (await console.post(NEW, good, csrf=False)).status == 403
    assert (await console.post(NEW, {**good, "csrf": "sai"}, csrf=False)).status == 403
    r = await console.client.post(NEW, data={**good, "csrf": await console.csrf()}, allow_redirects=False,
                                  headers={"Origin": "http://evil.example"})
    assert r.status == 403
    cases = [
        (dict(het_han="32/13/2026"), "ngày không đúng"),
        (dict(sao="7"), "hạng sao chỉ là 3, 4 hoặc 5"),
        (dict(nhom="khong_co"), "nhóm sản phẩm không có"),
        (dict(chude="bong_da"), "chủ đề không có"),
        (dict(tinh="atlantis"), "không có tỉnh"),
        (dict(text=""), "Nội dung đang trống"),
        (dict(text="{% if x %}"), "không dùng {% … %}"),
        (dict(text="x" * 3600), "dài quá 3500"),
        (dict(chude="hoi_cho"), "Không có ai nhận"),
        (dict(action="hen-gio", luc=""), "chưa có giờ gửi"),
        (dict(action="hen-gio", luc="2026-11-01T08:00"), "giờ gửi đã qua"),
        (dict(action="hen-gio", luc="2028-11-01T08:00"), "xa quá một năm"),
        (dict(action="xoa-het"), "Không rõ bạn muốn làm gì"),
    ]
    for change, why in cases:
        r = await console.post(NEW, {**good, **change})
        body = await r.text()
        assert r.status == 400 and why in body, (change, body[-1500:])
    assert await _n(core, Broadcast) == 0 and await _n(core, Delivery) == 0
    for path in ("/quantri/thong-bao/abc", "/quantri/thong-bao/99", "/quantri/thong-bao/99/tien-do"):
        assert (await console.get(path)).status == 404
    r = await console.get("/quantri/thong-bao/dem?het_han=hom-qua")
    assert r.status == 400 and "het_han" in (await r.json())["errors"]


async def test_live_count_agrees_with_the_recipients_sent_to(console):
    """The composer's SQL count and the rows a send creates come from the same segment rules."""
    from core.permissions import Scope
    from handlers.broadcast.segments import count, recipients, unreached
    from storage.models import Subscription
    core = console.core
    await _world(core)
    async with core.sessionmaker() as s:
        p1 = await s.scalar(select(User.id).where(User.display_name == "Người p1"))
        p3 = await s.scalar(select(User.id).where(User.display_name == "Người p3"))
        s.add_all([Subscription(user_id=p1, groups=["do_uong"], topics=["hoi_cho"]),
                   Subscription(user_id=p3, province="Cao Bằng", groups=["thuc_pham"], topics=["tap_huan"], active=False)])
        await s.commit()
    cb = Scope(national=False, provinces=frozenset({"cao_bang"}))
    async with core.sessionmaker() as s:
        for seg, scope, want in (({}, None, (3, 2)), ({}, cb, (3, 2)), ({"topic": "hoi_cho"}, None, (1, 0)),
                                 ({"topic": "tap_huan"}, None, (0, 0)), ({"groups": ["do_uong"]}, cb, (1, 1)),
                                 ({"groups": ["thuc_pham"]}, None, (1, 0)), ({"stars": [4]}, cb, (1, 1)),
                                 ({"expiring_before": "2028-01-31"}, None, (1, 0))):
            got = (len(await recipients(s, seg, scope)), len(await unreached(s, seg, scope)))
            assert got == want == await count(s, seg, scope), seg


def _list_row(body: str, bid: int) -> str:
    start = body.index(f'<tr id="b{bid}">')
    return body[start:body.index("</tr>", start)]


async def test_finished_broadcast_counts_are_kept_on_its_row(console, sender, make_worker):
    """At 'done' the final counts go on the broadcast row and the list and the report read them there; a done
    broadcast without them (older than migration 0010) gets them on the first visit; running ones and cancelled
    ones are always counted from the deliveries."""
    core = console.core
    await _world(core)
    await console.as_("national")
    assert (await console.post(NEW, dict(text="Chào {{ ten }}", action="gui-ngay", tinh="cao_bang"))).status == 303
    async with core.sessionmaker() as s:
        assert (await s.get(Broadcast, 1)).counts is None
    running = _list_row(await (await console.get("/quantri/thong-bao")).text(), 1)
    assert '<td class="num">2</td>' in running                                   # 2 pending, counted live
    async with core.sessionmaker() as s:
        assert (await s.get(Broadcast, 1)).counts is None                        # not final: not kept
    worker = make_worker(core, sender)
    worker.after_batch.append(Progress(core.sessionmaker, worker.senders).tick)
    await worker.drain(timeout=5)
    async with core.sessionmaker() as s:
        bc = await s.get(Broadcast, 1)
        assert bc.status == "done" and bc.counts == {"sent": 2, "no_route": 2}
        assert bc.channel_counts == {"console": {"sent": 2}, "none": {"no_route": 2}}
    done_row = _list_row(await (await console.get("/quantri/thong-bao")).text(), 1)
    report = await (await console.get("/quantri/thong-bao/1")).text()
    prog = await (await console.get("/quantri/thong-bao/1/tien-do")).json()
    assert prog["outcomes"]["delivered"] == 2 and prog["outcomes"]["no_route"] == 2
    # the pages read the row, not the deliveries: a stand-in count on the row is what they show
    async with core.sessionmaker() as s, s.begin():
        bc = await s.get(Broadcast, 1)
        bc.counts, bc.channel_counts = {"sent": 7, "no_route": 2}, {"console": {"sent": 7}, "none": {"no_route": 2}}
    assert '<td class="num">7</td>' in _list_row(await (await console.get("/quantri/thong-bao")).text(), 1)
    assert (await (await console.get("/quantri/thong-bao/1/tien-do")).json())["outcomes"]["delivered"] == 7
    # a done broadcast from before 0010: counted once, then kept; the pages look the same as before
    async with core.sessionmaker() as s, s.begin():
        bc = await s.get(Broadcast, 1)
        bc.counts = bc.channel_counts = None
    assert _list_row(await (await console.get("/quantri/thong-bao")).text(), 1) == done_row
    assert await (await console.get("/quantri/thong-bao/1")).text() == report
    async with core.sessionmaker() as s:
        bc = await s.get(Broadcast, 1)
        assert bc.counts == {"sent": 2, "no_route": 2}
        assert bc.channel_counts == {"console": {"sent": 2}, "none": {"no_route": 2}}
    # cancelled: never kept (a claimed row may still end after the cancel)
    assert (await console.post(NEW, dict(text="Chào lần hai", action="gui-ngay", tinh="cao_bang"))).status == 303
    assert (await console.post("/quantri/thong-bao/2/huy", {})).status == 303
    await console.get("/quantri/thong-bao")
    await console.get("/quantri/thong-bao/2")
    async with core.sessionmaker() as s:
        bc = await s.get(Broadcast, 2)
        assert bc.status == "cancelled" and bc.counts is None and bc.channel_counts is None
