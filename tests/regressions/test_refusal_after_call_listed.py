"""Issue 14 (reach e2e): a producer whose phone refuses ZNS (-141) was on the call list as 'phone_only'
at offset 150 although the refusal had been recorded at 180.

Cause: the two decisions raced. The 150 reminder was put on the call list (consent read: no refusal yet,
and no ZNS at 150) while the 180 reminder's ZNS row was still waiting in the queue; that row then got
-141. Both answers were true when given, and the call list kept the stale one. In the e2e the 180 row
was a retry left queued by a killed run and sent by the next offset's run, after its sweep; in real
use the same happens for two certificates sharing a phone, due the same day.
Fix: recording a refusal updates the phone's open call-list rows decided since the refused attempt was
queued whose reason came from the phone's consent (phone_only, zns_off); on PostgreSQL a route
decision locks the phone's consent row first, so a refusal recorded during a sweep waits for it."""
from datetime import date, timedelta

from sqlalchemy import select

from core.dates import expiry_date
from core.reminders import sweep
from storage.models import CallListEntry, PhoneConsent
from tests.products.util import add_cert
from tests.reach.conftest import zns_env  # noqa: F401 (fixture)
from tests.reach.test_zns import EXP, REC, at

PHONE = "0912345600"


async def _sweep(env, day):
    async with env.core.sessionmaker() as s, s.begin():
        return await sweep(s, env.core.settings, day)


async def _calls(env):
    async with env.core.sessionmaker() as s:
        return {c.reminder_key.rsplit(":", 1)[1]: (c.reason, c.detail)
                for c in await s.scalars(select(CallListEntry).order_by(CallListEntry.id))}


async def test_refusal_of_a_queued_zns_updates_the_later_offsets_call_list_row(db_url, zns_env):
    env = await zns_env(db_url)
    async with env.core.sessionmaker() as s, s.begin():
        await add_cert(s, None, phone=PHONE, recognized=REC, source="import")
    env.zns.fail_phone("84" + PHONE[1:], -141)
    for off, planned in ((210, (0, 1)), (180, (1, 0)), (150, (0, 1))):   # 180: its ZNS row waits in the queue
        at(EXP - timedelta(days=off))
        res = await _sweep(env, EXP - timedelta(days=off))
        assert (res.enqueued, res.call_listed) == planned, off
    assert await _calls(env) == {"210": ("phone_only", ""), "150": ("phone_only", "")}   # 150: before the -141
    await env.worker().drain(timeout=10)                                      # now the 180 ZNS gets -141
    assert [a["code"] for a in env.zns.attempts] == [-141]
    calls = await _calls(env)
    # 210 was decided before the refused attempt was queued: phone_only was (and stays) its reason
    assert {k: r for k, (r, _d) in calls.items()} == {"210": "phone_only", "180": "refused", "150": "refused"}
    assert calls["150"][1] == calls["180"][1] == "zns -141: user refused messages from this OA"


async def test_two_certificates_of_one_refused_phone_due_the_same_day(db_url, zns_env):
    env = await zns_env(db_url)
    day = EXP - timedelta(days=180)
    other = date(2024, 2, 3)                     # expires 30 days earlier: its 150 reminder is due `day`
    assert expiry_date(other) - timedelta(days=150) == day
    async with env.core.sessionmaker() as s, s.begin():
        await add_cert(s, None, phone=PHONE, recognized=REC, source="import", decision="1/QĐ-UBND")
        await add_cert(s, None, phone=PHONE, recognized=other, source="import", decision="2/QĐ-UBND")
        await add_cert(s, None, phone="0912345699", recognized=other, source="import", decision="3/QĐ-UBND")
    env.zns.fail_phone("84" + PHONE[1:], -141)
    at(day)
    res = await _sweep(env, day)                 # one sweep decides both: ZNS for 180, phone_only for 150
    assert (res.queued, res.enqueued, res.call_listed) == (3, 1, 2)
    await env.worker().drain(timeout=10)
    async with env.core.sessionmaker() as s:
        rows = {(c.phone, c.reminder_key.rsplit(":", 1)[1]): c.reason for c in await s.scalars(select(CallListEntry))}
        [consent] = await s.scalars(select(PhoneConsent).where(PhoneConsent.refused_at.is_not(None)))
    assert rows == {(PHONE, "180"): "refused", (PHONE, "150"): "refused", ("0912345699", "150"): "phone_only"}
    assert (consent.phone, consent.refused_code) == (PHONE, -141)



async def test_a_refusal_recorded_during_a_sweep_waits_for_it_and_corrects_its_row(db_url, zns_env):
    """The same race inside one sweep's transaction: the refusal is recorded after the sweep read the
    phone's consent and before it committed the 150 row."""
    import asyncio
    from handlers.reach.consent import record_refusal
    env = await zns_env(db_url)
    async with env.core.sessionmaker() as s, s.begin():
        cert = await add_cert(s, None, phone=PHONE, recognized=REC, source="import")
    at(EXP - timedelta(days=180))
    await _sweep(env, EXP - timedelta(days=180))                 # the 180 ZNS row is queued
    at(EXP - timedelta(days=150))
    async with env.core.sessionmaker() as s:
        await s.begin()
        assert (await sweep(s, env.core.settings, EXP - timedelta(days=150))).call_listed == 1
        refusal = asyncio.create_task(record_refusal(env.core.sessionmaker, PHONE, -141,
                                                     f"cert:{cert.id}:2027-03-05:180", "zns -141: refused"))
        await asyncio.sleep(0.5)
        assert not refusal.done()                                # it waits for the sweep's commit …
        await s.commit()
    await asyncio.wait_for(refusal, 10)
    assert await _calls(env) == {"150": ("refused", "zns -141: refused")}   # … and then corrects its row
