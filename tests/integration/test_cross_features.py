"""Features meeting each other: a /dangky subscriber (province stored as an id) gets the round
reminders of a round an officer created (province typed as an old name), through the delivery path."""
from datetime import date

from sqlalchemy import select

from delivery.outcome import SendResult
from delivery.senders import Senders
from delivery.worker import DeliveryWorker
from handlers.rounds.repo import check_round, create_round
from core.reminders import sweep
from storage.models import Delivery, Subscription
from tests.helpers import msg, texts


class Recorder:
    def __init__(self):
        self.sent = []

    async def send(self, chat_id, reply):
        self.sent.append((chat_id, reply.text))
        return SendResult.ok(len(self.sent))


async def test_subscriber_gets_round_reminders_once(db_url, make_core, today):
    core = make_core(db_url)
    today.value = date(2027, 3, 1)
    # the producer subscribes by typing an old province name, then taps "done" twice
    await core.handle(msg("/dangky", user="p1"))
    t = texts(await core.handle(msg("tien giang", user="p1")))
    assert "Tiền Giang nay thuộc tỉnh Đồng Tháp" in t
    await core.handle(msg(callback="sub:gd", user="p1"))
    await core.handle(msg(callback="sub:td", user="p1"))
    async with core.sessionmaker() as s:
        sub = await s.scalar(select(Subscription))
        assert sub.province == "dong_thap" and "dot_danh_gia" in sub.topics and sub.active
    # an officer creates a round for "Đồng Tháp" (typed with the old name of the merged province)
    async with core.sessionmaker() as s, s.begin():
        data = check_round("Tiền Giang", "Đợt 1 năm 2027", "15/3/2027", "1/4/2027", "UBND xã", today.value)
        await create_round(s, data)
    # 14 days before the deadline: one reminder; a second sweep the same day creates nothing
    for _ in range(2):
        async with core.sessionmaker() as s, s.begin():
            await sweep(s, core.settings, date(2027, 3, 1))
    rec = Recorder()
    worker = DeliveryWorker(core.sessionmaker, Senders(console=rec), rate=100, per_chat_interval=0)
    await worker.drain(timeout=10)
    assert len(rec.sent) == 1 and "Đợt 1 năm 2027" in rec.sent[0][1]
    # the 7-day reminder a week later, once
    async with core.sessionmaker() as s, s.begin():
        await sweep(s, core.settings, date(2027, 3, 8))
    await worker.drain(timeout=10)
    assert len(rec.sent) == 2
    async with core.sessionmaker() as s:
        statuses = list(await s.scalars(select(Delivery.status)))
    assert statuses == ["sent", "sent"]
