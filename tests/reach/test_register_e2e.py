"""End to end (issue 14): a register of 1,000 producers with the issue's route mix, swept by real
`bot.py remind` processes against fake Telegram, Zalo OA and ZNS servers over HTTP, on SQLite and
PostgreSQL — with a SIGKILL mid-sweep and one mid-delivery, then restarts."""
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from core import clock
from storage.db import make_engine, make_sessionmaker
from storage.models import CallListEntry, Delivery, Reminder
from tests.reach.register import EXP, Fakes, remind, seed, touch_window

N = 1000
OFFSETS = (210, 180, 150, 125, 0)
ZNS_OFFSETS = (180, 125)
VN = timezone(timedelta(hours=7))


def at(day, hour=9):
    clock.set_clock(clock.StartedClock(datetime(day.year, day.month, day.day, hour, tzinfo=VN)))


def _offset(key: str) -> int:
    return int(key.split(">", 1)[0].rsplit(":", 1)[1])


def _cert(key: str) -> int:
    return int(key.split(":")[1])


async def test_register_of_1000_producers_every_route_exactly_once(db_url):
    engine = make_engine(db_url)
    sm = make_sessionmaker(engine)
    groups = await seed(sm, N)
    fakes = await Fakes().start(groups)
    kills = []
    try:
        for off in OFFSETS:
            day = EXP - timedelta(days=off)
            at(day)
            await touch_window(sm, groups)
            if off == 180:
                # SIGKILL while the sweep runs (nothing is committed yet), then again mid-delivery
                rc, _out = await remind(fakes, db_url, day, kill_after_s=0.8)
                kills.append(("sweep", rc, fakes.provider_sent()))
                rc, _out = await remind(fakes, db_url, day, kill_after_sent=300)
                kills.append(("delivery", rc, fakes.provider_sent()))
            rc, out = await remind(fakes, db_url, day)
            assert rc == 0, out
            rc, out = await remind(fakes, db_url, day)           # a second sweep creates nothing
            assert rc == 0 and "0 reminder(s) due" in out, out
        assert [k[1] for k in kills] == [-9, -9]
        print("runs", [(str(d), round(t, 1), rc) for d, t, rc in fakes.runs])

        async with sm() as s:
            deliveries = list(await s.scalars(select(Delivery)))
            reminders = list(await s.scalars(select(Reminder)))
            calls = list(await s.scalars(select(CallListEntry)))
        # one logical reminder per certificate and offset
        assert len(reminders) == N * len(OFFSETS) and {r.status for r in reminders} == {"queued"}
        unknown = [d for d in deliveries if d.status == "unknown"]
        assert not [d for d in deliveries if d.status in ("queued", "claimed", "sending")]

        # provider side: nobody got the same reminder twice, on any route
        tg = Counter((m.chat_id, m.text.split("\n")[0], m.text.split("SP")[1][:5]) for m in fakes.tg.sent)
        oa = Counter((m["user_id"], m["text"].split("\n")[0]) for m in fakes.oa.sent)
        zns = Counter(m["tracking_id"] for m in fakes.zns.sent)
        seen = dict(tg=len(tg), oa=len(oa), zns=len(zns), zns_codes=Counter(a.get("code") for a in fakes.zns.attempts),
                    rows=Counter((d.channel, d.status) for d in deliveries))
        assert tg and oa and zns, seen
        assert max(tg.values()) == 1 and max(oa.values()) == 1 and max(zns.values()) == 1, seen
        # ZNS only at ZNS_OFFSETS, never to a refused phone, never to an OA user inside the window
        assert {_offset(k) for k in zns} <= set(ZNS_OFFSETS)
        assert {groups[_cert(k)] for k in zns} == {"oa_out", "phone"}

        # every producer with a working route got exactly one reminder per offset
        sent = Counter((_cert(d.key), _offset(d.key)) for d in deliveries if d.status == "sent")
        maybe = {(_cert(d.key), _offset(d.key)) for d in unknown}     # died inside the call: not re-sent
        assert max(sent.values()) == 1 and not (set(sent) & maybe)
        for cid, g in groups.items():
            for off in OFFSETS:
                works = g in ("telegram", "oa_in") or (g in ("oa_out", "phone") and off in ZNS_OFFSETS)
                if (cid, off) in maybe:
                    continue
                assert ((cid, off) in sent) == works, (cid, g, off)
        # the rest are on the call list, once per reminder, with the right reason
        reasons = {(c.cert_id, _offset(c.reminder_key)): c.reason for c in calls}
        for cid, g in groups.items():
            refusal_known = None              # the offset at which Zalo's refusal was surely recorded
            refusal_maybe = False             # a ZNS call to this phone died in flight: its refusal may be recorded
            for off in OFFSETS:
                if g == "refused" and off in ZNS_OFFSETS:
                    if (cid, off) in maybe:
                        refusal_maybe = True
                    elif refusal_known is None:
                        refusal_known = off
                if (cid, off) in maybe:       # died inside the call: the chain stops there, no call-list entry
                    continue
                want = {"telegram": None, "oa_in": None,
                        "oa_out": None if off in ZNS_OFFSETS else "phone_only",
                        "phone": None if off in ZNS_OFFSETS else "phone_only",
                        "refused": "refused" if refusal_known is not None else "phone_only",
                        "none": "no_route"}[g]
                got = reasons.get((cid, off))
                if g == "refused" and refusal_maybe and refusal_known is None and got == "refused":
                    continue    # the killed call got -141 and recorded the refusal before the row was finished
                assert got == want, (cid, g, off, got)
        # each attempt is its own row: OA outside the window is recorded, then ZNS or the call list
        out_rows = Counter(d.status for d in deliveries if groups[_cert(d.key)] == "oa_out" and d.channel == "zalo")
        assert out_rows == Counter({"outside_window": N * 20 // 100 * len(OFFSETS)})
        assert len(unknown) <= 16, Counter(d.channel for d in unknown)   # at most the calls in flight at the SIGKILL
    finally:
        await fakes.stop()
        await engine.dispose()
