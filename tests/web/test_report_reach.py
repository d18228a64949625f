"""The report's «producers reached in the period»: people (not accounts) with at least one message sent to any of
their accounts between the first day 00:00 and the day after the last, local time; a provincial officer counts
the people of their provinces (by province or by a product they claimed)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from core.web.auth import Viewer
from handlers.console import report_data
from storage.models import Certificate, Delivery, FaqLog, Identity, User

NATIONAL = Viewer(user_id=0, name="A", admin=True, national=True, provinces=frozenset())
CAO_BANG = Viewer(user_id=0, name="B", admin=False, national=False, provinces=frozenset({"cao_bang"}))
TU, DEN = date(2026, 3, 1), date(2026, 3, 31)


async def activity(core, viewer, tu=TU, den=DEN) -> list:
    async with core.sessionmaker() as db:
        return [row[1] for row in (await report_data.activity(db, viewer, tu, den, core.settings.tz)).rows]


async def reached(core, viewer, tu=TU, den=DEN) -> int:
    return (await activity(core, viewer, tu, den))[0]


async def test_people_reached_in_the_period(db_url, make_core, today):
    today.value = date(2026, 4, 10)
    core = make_core(db_url)
    tz = core.settings.tz
    start, end = datetime.combine(TU, time(0), tz), datetime.combine(DEN + timedelta(days=1), time(0), tz)
    mid = start + timedelta(days=10)
    people = {                  # name: (province, [(channel, active, [sent_at or None, ...]), ...])
        "two accounts": ("Cao Bằng", [("telegram", True, [mid]), ("zalo", True, [mid, mid + timedelta(hours=1)])]),
        "other province": ("Đồng Tháp", [("telegram", True, [mid])]),
        "owns a Cao Bằng product": (None, [("telegram", True, [start])]),          # first instant counts
        "blocked since": ("Cao Bằng", [("telegram", False, [mid])]),               # sent while reachable
        "before the period": ("Cao Bằng", [("telegram", True, [start - timedelta(seconds=1)])]),
        "after the period": ("Cao Bằng", [("telegram", True, [end])]),             # the day after: not counted
        "never sent": ("Cao Bằng", [("telegram", True, [None, None])]),            # queued, failed
        "no account": ("Cao Bằng", []),
    }
    async with core.sessionmaker() as s:
        n = 0
        for name, (province, accounts) in people.items():
            u = User(display_name=name, province=province)
            s.add(u)
            await s.flush()
            if name == "owns a Cao Bằng product":
                s.add(Certificate(product="Miến", producer="HTX", province="Cao Bằng", group="thuc_pham", stars=3,
                                  decision_no="1", recognized_on=date(2025, 1, 1), expires_on=date(2028, 1, 1),
                                  owner_user_id=u.id))
            for channel, active, sends in accounts:
                n += 1
                ident = Identity(user_id=u.id, channel=channel, external_id=str(n), chat_id=str(n), active=active)
                s.add(ident)
                await s.flush()
                for sent in sends:
                    n += 1
                    s.add(Delivery(key=f"k{n}", kind="notice", identity_id=ident.id, channel=channel,
                                   chat_id=str(n), status="sent" if sent else "queued", sent_at=sent,
                                   created_at=mid))
        s.add_all([FaqLog(user_id=u.id, question="q", outcome=o, created_at=at) for o, at in
                   (("answer", mid), ("suggest", start), ("fallback", mid), ("fallback", end))])
        await s.commit()
    assert (await activity(core, NATIONAL))[1:3] == [3, 1]    # FAQ questions asked, not answered (the last: April)
    # two accounts, other province, owns a Cao Bằng product, blocked since
    assert await reached(core, NATIONAL) == 4
    assert await reached(core, CAO_BANG) == 3           # not the other province
    assert await reached(core, NATIONAL, TU, TU) == 1   # the first day only: the first instant
    assert await reached(core, NATIONAL, date(2026, 4, 1), date(2026, 4, 9)) == 1     # after the period
    assert await reached(core, CAO_BANG, date(2025, 1, 1), date(2025, 12, 31)) == 0
