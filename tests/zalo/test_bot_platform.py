"""Zalo Bot Platform adapter end to end: real aiohttp server, fake Bot Platform API (real HTTP)."""
import asyncio

import pytest

from sqlalchemy import func, select

from channels.zalo_render import LIMIT
from core.messages import Reply
from core.router import Router
from core.text import html_to_plain
from storage.models import Feedback, ProcessedEvent, User
from tests.helpers import msg, texts
from tests.zalo.conftest import SECRET, TAG


async def count(core, model) -> int:
    async with core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def reference(core, **kw) -> str:
    """What the neutral core answers (console user), as plain text: the Zalo answer must match."""
    return html_to_plain(texts(await core.handle(msg(user="ref", **kw))))


async def test_webhook_menu_numbered_answers_and_labels(db_url, zalo_env):
    h = await zalo_env("bot", db_url)
    assert h.fake.webhook == {"url": h.webhook_url, "secret_token": SECRET}
    out = await h.say("u1", "/start")
    menu = "\n".join(out)
    assert "1. ❓ Hỏi đáp OCOP" in menu and "6. 👤 Liên hệ cán bộ" in menu and not TAG.search(menu)
    out = await h.say("u1", "2")                        # = tapping "📋 Hướng dẫn hồ sơ"
    assert "\n".join(out).startswith((await reference(h.core, callback="m:hoso"))[:60])
    await h.say("u1", "/menu")
    out = await h.say("u1", "hoi dap ocop")             # the label's words, no diacritics
    assert "\n".join(out).startswith((await reference(h.core, callback="m:faq"))[:60])


async def test_faq_question_gets_a_plain_text_answer_with_its_source(sqlite_url, zalo_env):
    h = await zalo_env("bot", sqlite_url)
    out = await h.say("u2", "san pham ocop 3 sao co thoi han bao lau")      # no diacritics
    answer = "\n".join(out)
    assert "36 tháng" in answer and "Căn cứ: QĐ 26/2026/QĐ-TTg" in answer  # QĐ 148 lapsed ~21/7/2026
    assert all(0 < len(t) <= LIMIT and not TAG.search(t) for t in out)
    assert "1. 👍 Hữu ích" in answer and "2. 👎 Chưa đúng" in answer
    await h.say("u2", "1")                                                  # feedback by number
    async with h.core.sessionmaker() as s:
        fb = await s.scalar(select(Feedback))
    assert (fb.faq_id, fb.vote) == ("thoi_han_gcn", 1)


async def test_wrong_secret_is_refused_and_nothing_is_processed(db_url, zalo_env):
    h = await zalo_env("bot", db_url)
    for secret in ("wrong-secret-xx", ""):
        assert await h.push(h.event("u3", "/start"), secret=secret) == 401
    assert h.fake.sent == [] and await count(h.core, User) == 0 and await count(h.core, ProcessedEvent) == 0


async def test_replayed_event_is_processed_once(db_url, zalo_env):
    h = await zalo_env("bot", db_url)
    first = await h.say("u4", "/start", msg_id="m-replay")
    again = await h.say("u4", "/start", msg_id="m-replay")
    assert first and again == []
    assert await count(h.core, ProcessedEvent) == 1


async def test_concurrent_duplicate_deliveries_are_processed_once(sqlite_url, zalo_env):
    h = await zalo_env("bot", sqlite_url)
    ev = h.event("u5", "/start", "m-dup")
    statuses = await asyncio.gather(*(h.fake.push(ev) for _ in range(4)))
    await h.channel.wait_idle()
    assert statuses == [200] * 4
    assert len(h.fake.texts_to("u5")) == len(await h.say("u6", "/start"))


async def test_polling_mode_one_update_per_call_and_408_loops(sqlite_url, zalo_env):
    h = await zalo_env("bot", sqlite_url, webhook=False)
    assert h.fake.webhook is None and not h.channel.needs_http
    await asyncio.sleep(0.5)                            # a few empty polls (408) first
    h.fake.queue_update(h.event("p1", "/start"))
    h.fake.queue_update(h.event("p1", "1"))
    for _ in range(100):
        if len(h.fake.texts_to("p1")) >= 2:
            break
        await asyncio.sleep(0.05)
    sent = h.fake.texts_to("p1")
    assert "1. ❓ Hỏi đáp OCOP" in sent[0]
    assert sent[1].startswith((await reference(h.core, callback="m:faq"))[:40])
    assert h.fake.calls.count("getUpdates") >= 3


def _long_router() -> Router:
    router = Router()

    async def long_answer(ctx, m):
        body = "\n".join(f"<b>Mục {i}</b>: nội dung &amp; giải thích <i>chi tiết</i> cho người sản xuất"
                         for i in range(150))
        return Reply(body)
    router.text = long_answer
    return router


@pytest.mark.parametrize("mode", ["bot", "oa"])
async def test_long_answer_is_split_under_2000_chars_without_tags(mode, sqlite_url, zalo_env):
    h = await zalo_env(mode, sqlite_url, router=_long_router())
    out = await h.say("u7", "dài")
    assert len(out) >= 3 and all(len(t) <= LIMIT for t in out)
    joined = "\n".join(out)
    assert not TAG.search(joined) and "&amp;" not in joined and "Mục 149: nội dung & giải thích" in joined


async def test_sender_maps_platform_errors(sqlite_url, zalo_env):
    h = await zalo_env("bot", sqlite_url)
    h.fake.fail_chat("gone", 403, "Forbidden: user blocked the bot")
    r = await h.channel.sender.send("gone", Reply("xin chào"))
    assert (r.status, r.deactivate) == ("blocked", True)
    h.fake.fail_next("sendMessage", 429, "Too many requests")
    assert (await h.channel.sender.send("u8", Reply("x"))).status == "retry"
    assert (await h.channel.sender.send("u8", Reply("x"))).status == "sent"


async def test_quick_successive_messages_are_handled_in_order(sqlite_url, zalo_env):
    h = await zalo_env("bot", sqlite_url)
    await h.fake.push(h.event("u9", "/start"))
    await h.fake.push(h.event("u9", "2"))               # arrives before the menu is even sent
    await h.channel.wait_idle()
    sent = h.fake.texts_to("u9")
    assert "1. ❓ Hỏi đáp OCOP" in sent[0]
    assert "\n".join(sent[1:]).startswith((await reference(h.core, callback="m:hoso"))[:60])
    assert h.channel._user_locks == {}


async def test_replay_to_another_instance_is_still_processed_once(db_url, zalo_env):
    first = await zalo_env("bot", db_url)
    assert await first.say("u10", "/start", msg_id="m-across")
    await first.rt.stop()                                # a restart …
    second = await zalo_env("bot", db_url)               # … or another instance on the same database
    assert await second.say("u10", "/start", msg_id="m-across") == []
    assert await second.say("u10", "/start", msg_id="m-new")


async def test_old_event_ids_are_pruned(sqlite_url, zalo_env):
    from datetime import timedelta

    from sqlalchemy import update as sa_update

    from storage.models import utcnow
    h = await zalo_env("bot", sqlite_url)
    await h.say("u11", "/start", msg_id="old")
    await h.say("u11", "/start", msg_id="recent")
    async with h.core.sessionmaker() as s, s.begin():
        await s.execute(sa_update(ProcessedEvent).where(ProcessedEvent.event_id == "bot:old")
                        .values(created_at=utcnow() - timedelta(days=8)))
    assert await h.channel.prune_events() == 1
    assert await count(h.core, ProcessedEvent) == 1
