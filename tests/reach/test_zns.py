"""ZNS by phone through the fake ZNS server (real HTTP): sending, every §C7 error code, quota, night,
token refresh, receipts, consent and /stop."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from core import clock
from core.reminders import sweep
from storage.models import CallListEntry, Delivery, Identity, KeyValue, PhoneConsent, User
from tests.products.util import add_cert, add_user
from tests.helpers import msg

REC = date(2024, 3, 5)
EXP = date(2027, 3, 5)
VN = timezone(timedelta(hours=7))


def at(d: date, hour: int = 9) -> None:
    clock.set_clock(clock.StartedClock(datetime(d.year, d.month, d.day, hour, 0, tzinfo=VN)))


async def _sweep(env, day):
    async with env.core.sessionmaker() as s, s.begin():
        return await sweep(s, env.core.settings, day)


async def _rows(env, model, *where):
    async with env.core.sessionmaker() as s:
        return list(await s.scalars(select(model).where(*where).order_by(model.__mapper__.primary_key[0])))


async def _register(env, n=1, phone="09123456{:02d}", owner=None):
    async with env.core.sessionmaker() as s, s.begin():
        return [await add_cert(s, owner, product=f"Mật ong {i}", decision=f"{i}/QĐ-UBND", recognized=REC,
                               phone=phone.format(i) if phone else None, source="import") for i in range(n)]


async def test_unclaimed_register_entry_gets_zns_at_zns_offsets_only(db_url, zns_env):
    env = await zns_env(db_url)
    [cert] = await _register(env)
    at(EXP - timedelta(days=180))
    res = await _sweep(env, EXP - timedelta(days=180))
    assert (res.queued, res.enqueued, res.call_listed) == (1, 1, 0)
    await env.worker().drain(timeout=10)
    [m] = env.zns.sent
    key = f"cert:{cert.id}:2027-03-05:180"
    assert (m["phone"], m["template_id"], m["tracking_id"]) == ("84912345600", "T_CERT", key)
    assert m["template_data"]["product_name"] == "Mật ong 0" and m["template_data"]["expiry_date"] == "05/03/2027"
    assert m["template_data"]["window_open"] == "06/09/2026" and m["template_data"]["window_close"] == "05/11/2026"
    [d] = await _rows(env, Delivery)
    assert (d.key, d.channel, d.status, d.identity_id, d.provider_message_id) == (key, "zns", "sent", None, m["msg_id"])
    # the signed delivery receipt marks it delivered; a bad signature changes nothing
    assert await env.zns.push_receipt(env.receipt_url, m) == 200
    assert (await _rows(env, Delivery))[0].delivered_at is not None
    env.zns.secret_key = "wrong"
    assert await env.zns.push_receipt(env.receipt_url, m) == 401
    [consent] = await _rows(env, PhoneConsent)
    assert (consent.phone, consent.basis, consent.refused_at) == ("0912345600", "register", None)
    # 150 days: not a ZNS offset (cost control) -> the call list, with the reason
    at(EXP - timedelta(days=150))
    res = await _sweep(env, EXP - timedelta(days=150))
    assert (res.enqueued, res.call_listed) == (0, 1)
    [c] = await _rows(env, CallListEntry)
    assert (c.reason, c.phone, c.product, c.expires_on) == ("phone_only", "0912345600", "Mật ong 0", EXP)
    assert (await _sweep(env, EXP - timedelta(days=150))).created == 0


NEXT_ROUTE = [(-108, "bad_phone"), (-118, "no_zalo"), (-119, "no_zalo"), (-114, "no_zalo"),
              (-134, "refused"), (-139, "refused"), (-141, "refused"),
              (-131, "template_error"), (-1121, "template_error"), (-1122, "template_error"),
              (-1441, "template_error"), (-1471, "template_error"), (-115, "billing"), (-137, "billing")]


@pytest.mark.parametrize("code,reason", NEXT_ROUTE)
async def test_every_permanent_zns_error_ends_on_the_call_list_with_its_reason(sqlite_url, zns_env, code, reason):
    env = await zns_env(sqlite_url)
    async with env.core.sessionmaker() as s, s.begin():
        await add_user(s, "admin")
    certs = await _register(env, 2)
    for c in certs:
        env.zns.fail_phone("84" + c.phone[1:], code)
    day = EXP - timedelta(days=180)
    at(day)
    await _sweep(env, day)
    await env.worker(concurrency=1).drain(timeout=10)      # one at a time: the pause is seen by the next
    calls = await _rows(env, CallListEntry)
    assert [c.reason for c in calls] == [reason, reason]
    zns_rows = await _rows(env, Delivery, Delivery.channel == "zns")
    alerts = await _rows(env, Delivery, Delivery.kind == "notice")
    if reason == "billing":
        # ZNS paused after the first: the second is not even attempted; admins alerted once
        assert len(env.zns.attempts) == 1 and [r.status for r in zns_rows] == ["zns_paused", "zns_paused"]
        assert len(alerts) == 1 and "thanh toán" in alerts[0].payload["text"]
        async with env.core.sessionmaker() as s:
            assert await s.get(KeyValue, "zns:paused_until") is not None
    elif reason == "template_error":
        assert len(alerts) == 1 and str(code) in alerts[0].payload["text"]
    else:
        assert alerts == []
    if reason == "refused":
        assert {p.refused_code for p in await _rows(env, PhoneConsent)} == {code}
        at(EXP - timedelta(days=125))                  # the next ZNS offset: never asked again
        before = len(env.zns.attempts)
        await _sweep(env, EXP - timedelta(days=125))
        await env.worker().drain(timeout=10)
        assert len(env.zns.attempts) == before
        assert [c.reason for c in await _rows(env, CallListEntry)] == ["refused"] * 4


async def test_daily_quota_retries_tomorrow_and_night_rule_waits_for_8(sqlite_url, zns_env):
    env = await zns_env(sqlite_url)
    await _register(env, 3)
    env.zns.daily_quota = 1
    day = EXP - timedelta(days=180)
    at(day, 20)
    await _sweep(env, day)
    await env.worker().drain(timeout=5)
    rows = await _rows(env, Delivery)
    assert sorted(r.status for r in rows) == ["queued", "queued", "sent"]
    tomorrow8 = datetime(2026, 9, 7, 8, 0, tzinfo=VN)
    assert all(r.next_attempt_at.replace(tzinfo=r.next_attempt_at.tzinfo or timezone.utc) == tomorrow8
               and r.attempts == 0 for r in rows if r.status == "queued")
    assert await _rows(env, CallListEntry) == []
    # 23:00: outside ZNS_HOURS (08:00-21:00) nothing is attempted
    at(day, 23)
    async with env.core.sessionmaker() as s, s.begin():
        await s.execute(update(Delivery).values(next_attempt_at=clock.now()))
        await s.execute(update(KeyValue).where(KeyValue.key == "zns:quota_until").values(value=clock.now().isoformat()))
    attempts = len(env.zns.attempts)
    await env.worker().drain(timeout=3)
    assert len(env.zns.attempts) == attempts
    # the next morning the quota is new (and larger): both go out, once
    env.zns.daily_quota = 5
    at(date(2026, 9, 7), 8)
    await env.worker().drain(timeout=5)
    assert [r.status for r in await _rows(env, Delivery)] == ["sent"] * 3 and len(env.zns.sent) == 3


async def test_fake_night_clock_minus_133_retries_from_8(sqlite_url, zns_env):
    env = await zns_env(sqlite_url, zns_hours="00:00-23:59")
    await _register(env)
    day = EXP - timedelta(days=180)
    at(day, 23)
    await _sweep(env, day)
    await env.worker().drain(timeout=5)
    [r] = await _rows(env, Delivery)
    assert env.zns.attempts[-1]["code"] == -133 and r.status == "queued" and r.attempts == 0
    assert r.next_attempt_at.replace(tzinfo=r.next_attempt_at.tzinfo or timezone.utc) == datetime(2026, 9, 7, 8, tzinfo=VN)


async def test_expired_token_is_refreshed_once(sqlite_url, zns_env):
    env = await zns_env(sqlite_url)
    await _register(env)
    env.oa.expire_access()
    day = EXP - timedelta(days=180)
    at(day)
    await _sweep(env, day)
    await env.worker().drain(timeout=5)
    assert len(env.zns.sent) == 1 and len(env.oa.refresh_calls) == 1
    assert [a["code"] for a in env.zns.attempts] == [-124, 0]


async def test_claimed_product_uses_the_owner_routes_first_and_stop_ends_zns(db_url, zns_env):
    env = await zns_env(db_url)
    async with env.core.sessionmaker() as s, s.begin():
        u = await add_user(s, "bob")
        u.phone = "0912000111"
    [cert] = await _register(env, owner=u.id)
    day = EXP - timedelta(days=180)
    at(day)
    await _sweep(env, day)
    await env.worker().drain(timeout=5)
    assert len(env.chat.sent) == 1 and env.zns.sent == []        # Telegram/console first: no paid message
    # bob blocks the bot, then (before that) he had typed /stop: no ZNS to his phone either
    await env.core.handle(msg("/stop", user="bob"))
    async with env.core.sessionmaker() as s, s.begin():
        await s.execute(update(Identity).values(active=False))
    at(EXP - timedelta(days=125))
    await _sweep(env, EXP - timedelta(days=125))
    await env.worker().drain(timeout=5)
    assert env.zns.attempts == []
    [c] = await _rows(env, CallListEntry)
    assert (c.reason, c.phone, c.cert_id) == ("opted_out", "0912000111", cert.id)
    assert {p.phone for p in await _rows(env, PhoneConsent, PhoneConsent.opted_out_at.is_not(None))} == {
        "0912000111", cert.phone}


async def test_zns_check_reports_template_status(sqlite_url, zns_env):
    from channels.zns import check_templates
    env = await zns_env(sqlite_url)
    env.zns.template("T_ROUND", {"round_name": 30}, status="PENDING_REVIEW")
    out = {r["kind"]: r for r in await check_templates(env.core.settings, env.core.sessionmaker)}
    assert out["cert"]["usable"] and "product_name" in out["cert"]["params"]
    assert not out["round"]["usable"] and out["round"]["status"] == "PENDING_REVIEW"
    assert User  # imported for readers: producers are users
