"""Zalo OA adapter end to end: signed webhooks, replies via /v3.0/oa/message/cs, delivery statuses."""
import json
from datetime import timedelta

from sqlalchemy import select, update

from core.messages import Reply
from delivery.queue import enqueue
from storage.models import Delivery, Identity, KeyValue, ProcessedEvent, User, utcnow
from tests.fakes.zalo_oa_api import sign, text_event
from tests.zalo.conftest import TAG
from tests.zalo.test_bot_platform import count, reference


async def identity(core, user: str) -> Identity:
    async with core.sessionmaker() as s:
        return await s.scalar(select(Identity).where(Identity.channel == "zalo", Identity.external_id == user))


async def test_text_event_gets_numbered_plain_answer(db_url, zalo_env):
    h = await zalo_env("oa", db_url)
    out = await h.say("z1", "/start")
    assert "1. ❓ Hỏi đáp OCOP" in "\n".join(out) and not TAG.search("\n".join(out))
    assert h.fake.sent[0]["kind"] == "cs"
    out = await h.say("z1", "1")
    assert "\n".join(out).startswith((await reference(h.core, callback="m:faq"))[:40])
    ident = await identity(h.core, "z1")
    assert ident.last_message_id and ident.active


async def test_faq_question_on_oa(sqlite_url, zalo_env):
    h = await zalo_env("oa", sqlite_url)
    out = await h.say("z2", "Hồ sơ đăng ký OCOP gồm những gì?")
    answer = "\n".join(out)
    assert "Phiếu đăng ký" in answer and "Căn cứ: QĐ 26/2026/QĐ-TTg" in answer and not TAG.search(answer)  # QĐ 148 lapsed ~21/7/2026


async def test_signature_variants(db_url, zalo_env):
    h = await zalo_env("oa", db_url)
    ev = text_event(h.fake.app_id, "z3", "/start")
    raw = json.dumps(ev).encode()
    good = sign(h.fake.app_id, raw, ev["timestamp"], h.fake.secret_key)
    bad = [
        good[:-1] + ("0" if good[-1] != "0" else "1"),                                  # forged
        sign(h.fake.app_id, raw, ev["timestamp"], "wrong-secret"),                     # wrong OA secret
        sign("oa1", raw, ev["timestamp"], h.fake.secret_key),                           # oa_id variant
        "",                                                                             # missing
    ]
    for sig in bad:
        assert await h.fake.push(h.webhook_url, ev, signature=sig, raw=raw) == 401
    assert await h.fake.push(h.webhook_url, ev, signature=good, raw=raw + b" ") == 401   # body changed
    await h.channel.wait_idle()
    assert h.fake.sent == [] and await count(h.core, User) == 0 and await count(h.core, ProcessedEvent) == 0
    # accepted: with "mac=", without it, upper-case hex
    assert await h.fake.push(h.webhook_url, ev, signature=good, raw=raw) == 200
    ev2 = text_event(h.fake.app_id, "z3", "/menu")
    assert await h.fake.push(h.webhook_url, ev2, prefix="") == 200
    ev3 = text_event(h.fake.app_id, "z3", "/menu")
    raw3 = json.dumps(ev3).encode()
    upper = "mac=" + sign(h.fake.app_id, raw3, ev3["timestamp"], h.fake.secret_key)[4:].upper()
    assert await h.fake.push(h.webhook_url, ev3, signature=upper, raw=raw3) == 200
    await h.channel.wait_idle()
    assert await count(h.core, ProcessedEvent) == 3


async def test_replayed_event_is_processed_once(db_url, zalo_env):
    h = await zalo_env("oa", db_url)
    assert await h.say("z4", "/start", msg_id="dup1")
    assert await h.say("z4", "/start", msg_id="dup1") == []


async def test_follow_creates_identity_and_unfollow_marks_it_inactive(db_url, zalo_env):
    h = await zalo_env("oa", db_url)
    assert await h.follow("z5") == 200
    assert "1. ❓ Hỏi đáp OCOP" in "\n".join(h.fake.texts_to("z5"))
    assert (await identity(h.core, "z5")).active
    assert await h.follow("z5", "unfollow") == 200
    ident = await identity(h.core, "z5")
    assert (ident.active, ident.inactive_reason) == (False, "unfollowed")
    await h.say("z5", "/start")                       # coming back reactivates
    assert (await identity(h.core, "z5")).active


async def _queue(h, users: list[str], text="Thông báo hội chợ", tag="b1") -> None:
    async with h.core.sessionmaker() as s, s.begin():
        for u in users:
            ident = await s.scalar(select(Identity).where(Identity.external_id == u))
            await enqueue(s, ident, Reply(f"<b>{text}</b>"), key=f"{tag}:{u}", kind="notice")


async def _statuses(h) -> dict[str, tuple[str, str | None]]:
    async with h.core.sessionmaker() as s:
        rows = (await s.execute(select(Identity.external_id, Delivery.status, Delivery.last_error)
                                .join(Identity, Identity.id == Delivery.identity_id))).all()
    return {u: (st, err) for u, st, err in rows}


async def test_outside_window_is_not_attempted(db_url, zalo_env):
    h = await zalo_env("oa", db_url)
    for u in ("w1", "w2"):
        await h.say(u, "/start")
    async with h.core.sessionmaker() as s, s.begin():
        await s.execute(update(Identity).where(Identity.external_id == "w2")
                        .values(last_interaction_at=utcnow() - timedelta(days=8)))
    attempts = h.fake.send_attempts
    await _queue(h, ["w1", "w2"])
    await h.worker().drain(timeout=10)
    st = await _statuses(h)
    assert st["w1"][0] == "sent" and st["w2"][0] == "outside_window"
    assert h.fake.send_attempts == attempts + 1                      # only w1 reached the API
    assert not TAG.search(h.fake.texts_to("w1")[-1])


async def test_error_codes_map_to_statuses(db_url, zalo_env):
    h = await zalo_env("oa", db_url)
    users = ["e230", "e213", "e244", "e227", "e500", "e32"]
    for u in users:
        await h.say(u, "/start")
    for u, code in [("e230", -230), ("e213", -213), ("e244", -244), ("e227", -227), ("e500", -201)]:
        h.fake.fail_user(u, code, f"error {code}")
    h.fake.user_errors["e500"] = (-248, "content violates policy")
    await _queue(h, users[:-1])
    w = h.worker()
    await w.drain(timeout=10)
    st = await _statuses(h)
    assert st["e230"][0] == "outside_window" and "-230" in st["e230"][1]
    assert [st[u][0] for u in ("e213", "e244", "e227")] == ["unreachable"] * 3
    assert st["e500"] == ("failed", "zalo_oa -248: content violates policy")
    assert (await identity(h.core, "e230")).active
    assert not (await identity(h.core, "e213")).active and not (await identity(h.core, "e227")).active
    # -32: backed off and retried, then sent
    h.fake.fail_next(-32, "rate limit")
    await _queue(h, ["e32"], tag="b2")
    await w.run_batch()
    async with h.core.sessionmaker() as s, s.begin():
        row = await s.scalar(select(Delivery).where(Delivery.key == "b2:e32"))
        assert (row.status, row.attempts) == ("queued", 1) and "-32" in row.last_error
        row.next_attempt_at = utcnow()
    await w.drain(timeout=10)
    assert (await _statuses(h))["e32"][0] == "sent"


async def test_quota_exhausted_stops_attempts(sqlite_url, zalo_env):
    h = await zalo_env("oa", sqlite_url)
    for u in ("q1", "q2", "q3"):
        await h.say(u, "/start")
    h.fake.fail_next(-211, "Out of quota")
    attempts = h.fake.send_attempts
    await _queue(h, ["q1", "q2", "q3"])
    w = h.worker()
    w.concurrency = 1
    await w.drain(timeout=10)
    assert {v[0] for v in (await _statuses(h)).values()} == {"quota"}
    assert h.fake.send_attempts == attempts + 1
    async with h.core.sessionmaker() as s:
        assert await s.get(KeyValue, "zalo_oa:quota_until") is not None


async def test_expired_access_token_mid_broadcast_is_refreshed_and_nothing_lost(db_url, zalo_env):
    h = await zalo_env("oa", db_url)
    users = [f"r{i}" for i in range(6)]
    for u in users:
        await h.say(u, "/start")
    await _queue(h, users)
    w = h.worker()
    w.concurrency = 2
    h.fake.expire_after = 3                          # the token dies after the third message
    await w.drain(timeout=10)
    st = await _statuses(h)
    assert all(st[u][0] == "sent" for u in users)
    assert all(len([t for t in h.fake.texts_to(u) if "Thông báo hội chợ" in t]) == 1 for u in users)
    assert len(h.fake.refresh_calls) == 1 and h.fake.refused_refreshes == 0


async def test_standalone_sender_for_a_broadcast_process(sqlite_url, zalo_env):
    from channels import zalo_standalone_sender as standalone_sender
    from delivery.senders import Senders
    from delivery.worker import DeliveryWorker
    h = await zalo_env("oa", sqlite_url)
    await h.say("s1", "/start")
    await _queue(h, ["s1"], tag="cli")
    sender, close = standalone_sender(h.rt.settings, h.core.sessionmaker)
    try:
        await DeliveryWorker(h.core.sessionmaker, Senders(zalo=sender), rate=100, per_chat_interval=0).drain(timeout=5)
    finally:
        await close()
    assert (await _statuses(h))["s1"][0] == "sent"


async def test_documents_are_downloaded_and_images_answered_politely(sqlite_url, zalo_env):
    from tests.fakes.zalo_oa_api import file_event, image_event
    h = await zalo_env("oa", sqlite_url, admin_ids=frozenset({"zalo:officer"}))
    h.fake.files["dk.csv"] = "Tên sản phẩm;Hạng sao\nMật ong;3\n".encode()
    await h.push(file_event(h.fake.app_id, "officer", f"{h.fake.url}/files/dk.csv", "dk.csv", 30))
    officer = "\n".join(h.fake.texts_to("officer"))
    assert "Thiếu cột" in officer                       # the downloaded content reached the importer
    await h.push(file_event(h.fake.app_id, "p1", f"{h.fake.url}/files/dk.csv", "dk.csv", 30))
    assert "từ cán bộ phụ trách" in "\n".join(h.fake.texts_to("p1"))
    await h.push(image_event(h.fake.app_id, "p2"))
    assert "chỉ đọc được tin nhắn chữ" in "\n".join(h.fake.texts_to("p2"))


async def test_certificate_reminders_reach_zalo_with_window_rules(db_url, zalo_env, today):
    from datetime import date

    from core.reminders import sweep
    from storage.models import Certificate
    h = await zalo_env("oa", db_url)
    for u in ("rem1", "rem2"):
        await h.say(u, "/start")
    async with h.core.sessionmaker() as s, s.begin():
        for u in ("rem1", "rem2"):
            ident = await s.scalar(select(Identity).where(Identity.external_id == u))
            s.add(Certificate(owner_user_id=ident.user_id, product=f"Mật ong {u}", province="Đồng Tháp", stars=4,
                              recognized_on=date(2023, 12, 22), expires_on=today.value + timedelta(days=30)))
        await s.execute(update(Identity).where(Identity.external_id == "rem2")
                        .values(last_interaction_at=utcnow() - timedelta(days=10)))
    async with h.core.sessionmaker() as s, s.begin():
        assert (await sweep(s, h.core.settings, today.value)).queued == 2
    attempts = h.fake.send_attempts
    await h.worker().drain(timeout=10)
    st = await _statuses(h)
    assert (st["rem1"][0], st["rem2"][0]) == ("sent", "outside_window")
    assert h.fake.send_attempts == attempts + 1
    text = h.fake.texts_to("rem1")[-1]
    assert "Mật ong rem1" in text and not TAG.search(text)


async def test_an_answer_hit_by_a_temporary_error_is_delivered_later(sqlite_url, zalo_env):
    h = await zalo_env("oa", sqlite_url)
    await h.say("t1", "/start")
    h.fake.fail_next(-32, "rate limit")
    assert await h.say("t1", "/menu") == []                # the answer did not get through …
    async with h.core.sessionmaker() as s, s.begin():
        row = await s.scalar(select(Delivery).where(Delivery.kind == "answer"))
        assert row.key.startswith("zalo:reply:oa:") and row.status == "queued"
        row.next_attempt_at = utcnow()
    await h.worker().drain(timeout=10)                    # … the delivery path sends it
    menu = "\n".join(h.fake.texts_to("t1")[-1:])
    assert "1. ❓ Hỏi đáp OCOP" in menu and "&amp;" not in menu
