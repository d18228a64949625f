"""One bot process with Telegram (PTB, fake Bot API) and Zalo OA (fake Open API) side by side:
a broadcast reaches both in one delivery run with per-channel statuses; accounts get linked."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from handlers.broadcast import sending
from channels.telegram import TelegramChannel
from channels import make_zalo_channel
from core.app import Core
from core.runtime import Runtime
from storage.models import Delivery, Identity, utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_oa_api import FakeZaloOAAPI
from tests.telegram.conftest import say as tg_say
from tests.zalo.conftest import TAG, Harness, free_port

TEXT = "Hội chợ OCOP mở đăng ký & nhận hồ sơ"


@pytest.fixture
async def both(make_settings, today, sqlite_url):
    async with FakeTelegram() as tg:
        oa = await FakeZaloOAAPI().start()
        access, refresh = oa.issue_pair()
        port = free_port()
        settings = make_settings(sqlite_url, telegram_token=tg.token, telegram_api_url=tg.url,
                                 http_host="127.0.0.1", http_port=port, zalo_mode="oa",
                                 zalo_oa_app_id=oa.app_id, zalo_oa_app_secret=oa.app_secret,
                                 zalo_oa_secret_key=oa.secret_key, zalo_oa_access_token=access,
                                 zalo_oa_refresh_token=refresh, zalo_oa_api_url=oa.url, zalo_oauth_url=oa.url,
                                 zalo_webhook_url=f"http://127.0.0.1:{port}/zalo/webhook")
        rt = Runtime(settings, core=Core(settings))
        rt.add_channel(TelegramChannel(rt, poll_timeout=1))
        rt.add_channel(make_zalo_channel(rt))
        await rt.start(with_worker=False, with_scheduler=False, with_http=True)
        try:
            yield tg, Harness(rt, oa, "oa")
        finally:
            await rt.stop()
            await oa.stop()


async def _statuses(core) -> dict[str, str]:
    async with core.sessionmaker() as s:
        rows = await s.execute(select(Delivery.channel, Delivery.chat_id, Delivery.status)
                               .where(Delivery.kind == "broadcast"))
        return {f"{c}:{chat}": st for c, chat, st in rows}


async def test_broadcast_reaches_telegram_and_zalo_in_one_run(both):
    tg, z = both
    for chat in (501, 502):
        await tg_say(tg, chat, "/start")
    for user in ("za", "zb", "zc"):
        await z.say(user, "/start")
    tg.block(502)
    z.fake.fail_user("zc", -213, "User has not followed the OA")
    async with z.core.sessionmaker() as s, s.begin():
        await s.execute(update(Identity).where(Identity.external_id == "zb")
                        .values(last_interaction_at=utcnow() - timedelta(days=9)))
        bc, errors = await sending.create(s, actor_user_id=None, text=TEXT, segment={}, scope=None)
    assert not errors and bc.total == 5
    zalo_calls = z.fake.send_attempts
    await z.worker().drain(timeout=15)                  # rt.senders: telegram + zalo
    assert await _statuses(z.core) == {"telegram:501": "sent", "telegram:502": "blocked", "zalo:za": "sent",
                                       "zalo:zb": "outside_window", "zalo:zc": "unreachable"}
    assert z.fake.send_attempts == zalo_calls + 2       # zb was never attempted
    zalo_text = z.fake.texts_to("za")[-1]
    assert "mở đăng ký & nhận hồ sơ" in zalo_text and "&amp;" not in zalo_text and not TAG.search(zalo_text)
    assert any("mở đăng ký &amp; nhận hồ sơ" in (m.text or "") for m in tg.sent_to(501))   # HTML there
    async with z.core.sessionmaker() as s:
        summ = sending.summary(await sending.counts(s, bc.id))
        inactive = set(await s.scalars(select(Identity.external_id).where(Identity.active.is_(False))))
    assert (summ["sent"], summ["blocked"], summ["failed"], summ["pending"]) == (2, 1, 2, 0)
    assert inactive == {"502", "zc"}


async def test_link_telegram_and_zalo_then_one_message_per_person(both):
    tg, z = both
    await tg_say(tg, 601, "/start")
    out = "\n".join(await z.say("zl", "/lienket"))
    assert not TAG.search(out)
    code = re.search(r"Mã liên kết của bạn: ([A-Z0-9]{6})", out).group(1)
    answer = await tg_say(tg, 601, f"/lienket {code}")
    assert "Đã liên kết tài khoản" in " ".join(m.text or "" for m in answer)
    async with z.core.sessionmaker() as s:
        owners = set(await s.scalars(select(Identity.user_id)))
    assert len(owners) == 1
    async with z.core.sessionmaker() as s, s.begin():
        bc, _ = await sending.create(s, actor_user_id=None, text=TEXT, segment={}, scope=None)
    assert bc.total == 1                                 # one person, one message (latest channel)
    await z.worker().drain(timeout=15)
    assert await _statuses(z.core) == {"telegram:601": "sent"}
