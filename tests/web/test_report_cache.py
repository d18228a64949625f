"""The report's cached figures (register tables per register version, bot activity of settled days per person)
are exactly the figures computed from scratch, after every kind of write: a certificate edit, an import, a message
sent, a FAQ question, a dossier answer, an officer's answer, two people merged, and the next day."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update

from core import clock
from core.web.auth import Viewer
from handlers.console import activity, report_data, snapshot
from handlers.link.merge import merge_users
from handlers.products.importer import import_certificates
from storage.models import Certificate, Delivery, FaqLog, FlowAnswer, Identity, OfficerQuestion, User

NATIONAL = Viewer(user_id=0, name="A", admin=True, national=True, provinces=frozenset())
CAO_BANG = Viewer(user_id=0, name="B", admin=False, national=False, provinces=frozenset({"cao_bang"}))
CSV = ("Tên sản phẩm,Chủ thể,Xã/phường,Tỉnh/thành,Nhóm,Số sao,Số quyết định,Ngày công nhận\n"
       "Miến dong,HTX Miến,Xã Nguyên Bình,Cao Bằng,Thực phẩm,4,12/QĐ-UBND,5/3/2026\n")


async def tables(core, viewer, tu, den, *, fresh: bool = False) -> list:
    if fresh:                           # what a process that never cached anything computes
        snapshot._cache.clear()
        activity._past.clear()
    async with core.sessionmaker() as db:
        data = await report_data.build(db, viewer, tu, den, clock.today(core.settings.tz), core.settings.tz)
    return [(t.key, t.rows, t.footer) for t in data["tables"]]


async def bot(core, viewer, tu, den) -> list:
    return next(rows for key, rows, _f in await tables(core, viewer, tu, den) if key == "bot")


class Periods:
    def __init__(self, core):
        self.core = core

    def all(self):
        d = clock.today(self.core.settings.tz)
        return [(v, tu, den) for v in (NATIONAL, CAO_BANG)
                for tu, den in ((date(d.year, 1, 1), d), (d - timedelta(days=10), d - timedelta(days=1)), (d, d))]

    async def exact(self) -> None:
        """Every period and scope: the figures served (cached) equal the ones computed from scratch."""
        served = [await tables(self.core, v, tu, den) for v, tu, den in self.all()]
        assert activity._past, "the settled days are cached"
        fresh = []
        for v, tu, den in self.all():
            fresh.append(await tables(self.core, v, tu, den, fresh=True))
        assert served == fresh
        assert served == [await tables(self.core, v, tu, den) for v, tu, den in self.all()]    # and cached again


async def test_cached_report_figures_stay_exact(db_url, make_core, today):
    core = make_core(db_url)
    tz = core.settings.tz
    periods = Periods(core)
    now = clock.now()
    midnight = datetime.combine(today.value, time(0), tz)
    async with core.sessionmaker() as s:
        people = []
        for i, province in enumerate(("Cao Bằng", "Cao Bằng", "Đồng Tháp", None)):
            u = User(display_name=f"P{i}", province=province)
            s.add(u)
            await s.flush()
            s.add(Identity(user_id=u.id, channel="telegram", external_id=str(100 + i), chat_id=str(100 + i)))
            people.append(u.id)
        await s.flush()
        idents = {i.user_id: i.id for i in await s.scalars(select(Identity))}
        s.add(Certificate(product="Trà", producer="HTX Trà", province="Cao Bằng", group="do_uong", stars=3,
                          decision_no="1", recognized_on=date(2026, 2, 1), expires_on=date(2029, 2, 1),
                          owner_user_id=people[3]))
        for n, (who, at) in enumerate([(0, midnight - timedelta(days=3)), (2, midnight - timedelta(days=40)),
                                       (3, midnight - timedelta(minutes=1)), (1, now - timedelta(hours=1))]):
            s.add(Delivery(key=f"d{n}", kind="notice", identity_id=idents[people[who]], channel="telegram",
                           chat_id="1", status="sent", sent_at=at, created_at=at))
            s.add(FaqLog(user_id=people[who], question="q", outcome="fallback" if n % 2 else "answer", created_at=at))
        s.add(FaqLog(user_id=None, question="q", outcome="answer", created_at=midnight - timedelta(days=2)))
        for who in (0, 2):
            s.add(FlowAnswer(user_id=people[who], flow="dossier", node="a", value="co",
                             updated_at=midnight - timedelta(days=2)))
        s.add(OfficerQuestion(user_id=people[0], province="Cao Bằng", question="?", status="open",
                              created_at=midnight - timedelta(days=5)))
        await s.commit()
    await periods.exact()
    year = (NATIONAL, date(today.value.year, 1, 1), today.value)
    assert (await bot(core, *year))[:3] == [["Chủ thể nhận được tin của bot (nhắc hạn, thông báo, trả lời)", 4],
                                             ["Câu hỏi hỏi đáp gửi cho bot", 5],
                                             ["— bot chưa trả lời được (chuyển hướng)", 2]]
    # Cao Bằng: its two residents and the owner of its product; one of them walked /hoso
    rows = await bot(core, CAO_BANG, *year[1:])
    assert (rows[0][1], rows[1][1], rows[-1][1]) == (3, 3, 1)
    assert (await bot(core, *year))[-1][1] == 2

    async with core.sessionmaker() as s:                        # a certificate edit: another owner, another star
        cert = await s.scalar(select(Certificate))
        cert.stars, cert.owner_user_id = 5, people[2]
        await s.commit()
    await periods.exact()
    async with core.sessionmaker() as s:                        # an import
        assert (await import_certificates(s, CSV.encode(), "ds.csv", today=today.value)).created == 1
        await s.commit()
    await periods.exact()
    async with core.sessionmaker() as s:                        # a message sent now to someone not reached today
        s.add(Delivery(key="new", kind="notice", identity_id=idents[people[2]], channel="telegram", chat_id="1",
                       status="sent", sent_at=clock.now()))
        await s.commit()
    await periods.exact()
    async with core.sessionmaker() as s:                        # a FAQ question answered now
        s.add(FaqLog(user_id=people[1], question="q", outcome="answer"))
        await s.commit()
    assert (await bot(core, *year))[1][1] == 6
    await periods.exact()
    async with core.sessionmaker() as s:                        # /hoso answered again; the officer answers
        await s.execute(update(FlowAnswer).values(value="chua", updated_at=clock.now()))
        q = await s.scalar(select(OfficerQuestion))
        q.status, q.answered_at = "answered", clock.now()
        await s.commit()
    await periods.exact()
    async with core.sessionmaker() as s:                        # a Cao Bằng person links the Đồng Tháp account
        await merge_users(s, people[0], people[2])
        await s.commit()
    await periods.exact()
    today.value = today.value + timedelta(days=1)               # yesterday's live figures are now settled
    await periods.exact()
