"""The report's «bot activity» per person: people reached and FAQ questions asked, for a period.

What happened before today is computed once and kept (per database, start of the period and day): a message's
`sent_at` and a question's `created_at` are the clock's now when written, so the rows of a day that has passed
never change. Two things do rewrite them: merging two people (handlers/link/merge.py moves user ids) and deleting
a person; both change (count, highest id) of users, which is part of the key. Today (from local midnight of 15
minutes ago: late commits of the previous day are still counted) is read live, through the indexes of migration
0012. Figures are kept per person, so any scope counts only its own people.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import case, func, select

from core import clock
from storage.models import Delivery, FaqLog, Identity, User

SETTLED_AFTER = timedelta(minutes=15)
MAX_ENTRIES = 16
_past: OrderedDict = OrderedDict()


@dataclass(frozen=True)
class Figures:
    reached: frozenset          # people with at least one message sent in the range
    asked: dict                 # asker (user id or None) -> (questions, fallbacks)


@dataclass(frozen=True)
class Activity:
    parts: tuple[Figures, ...]

    def reached(self, people: set | None) -> int:
        """People reached, all of them (None) or those in `people`."""
        everyone = frozenset().union(*(p.reached for p in self.parts))
        return len(everyone) if people is None else len(everyone & people)

    def questions(self, people: set | None) -> tuple[int, int]:
        """(questions asked, fallbacks) of everyone (None, anonymous ones too) or of `people`."""
        n = fb = 0
        for p in self.parts:
            for who, (a, f) in p.asked.items():
                if people is None or who in people:
                    n, fb = n + a, fb + f
        return n, fb


def settled_before(tz) -> datetime:
    """Local midnight of 15 minutes ago: the rows before it do not change any more."""
    now = clock.now().astimezone(tz) - SETTLED_AFTER
    return datetime.combine(now.date(), time(0), tz)


async def _figures(db, start: datetime, end: datetime, many: bool) -> Figures:
    conn = await db.connection()
    if many:
        # a long period: one index-only probe per identity (ix_deliveries_identity_sent), not a scan of every
        # delivery in the period (COUNT(DISTINCT) over a year's 880,000 deliveries took 750-830 ms)
        probe = (select(Delivery.sent_at).where(Delivery.identity_id == Identity.id, Delivery.sent_at >= start,
                                                Delivery.sent_at < end).limit(1).scalar_subquery())
        reached_q = select(Identity.user_id).where(probe.is_not(None)).distinct()
    else:                   # today: the day's deliveries (ix_deliveries_sent; a join made SQLite probe every identity)
        sent = select(Delivery.identity_id).where(Delivery.sent_at >= start, Delivery.sent_at < end)
        reached_q = select(Identity.user_id).where(Identity.id.in_(sent)).distinct()
    faq_q = (select(FaqLog.user_id, func.count(), func.sum(case((FaqLog.outcome == "fallback", 1), else_=0)))
             .where(FaqLog.created_at >= start, FaqLog.created_at < end).group_by(FaqLog.user_id))
    reached = frozenset((await conn.execute(reached_q)).scalars())
    asked = {who: (n, int(fb or 0)) for who, n, fb in (await conn.execute(faq_q)).all()}
    return Figures(reached, asked)


async def activity(db, start: datetime, end: datetime, tz) -> Activity:
    """The figures of [start, end): the settled days from the cache, today live."""
    split = settled_before(tz)
    parts = []
    if start < split:
        people = tuple((await db.execute(select(func.count(), func.max(User.id)))).one())
        key = (str(db.bind.url), start, min(end, split), people)
        if key in _past:
            _past.move_to_end(key)
        else:
            _past[key] = await _figures(db, start, min(end, split), True)
            while len(_past) > MAX_ENTRIES:
                _past.popitem(last=False)
        parts.append(_past[key])
    if end > split:
        parts.append(await _figures(db, max(start, split), end, False))
    return Activity(tuple(parts))
