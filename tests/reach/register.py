"""A province register of N producers with the route mix of issue 14, the fakes they need, and a
`bot.py remind` runner (a real process) — shared by tests/reach/test_register_e2e.py and bench/reach.py.

| share | group    | route                                                        |
|-------|----------|--------------------------------------------------------------|
| 30 %  | telegram | claimed, active Telegram identity                            |
| 20 %  | oa_in    | claimed, Zalo OA identity inside the 7-day window            |
| 20 %  | oa_out   | claimed, Zalo OA identity outside the window, phone on file  |
| 15 %  | phone    | unclaimed register entry with a phone (never wrote)          |
|  5 %  | refused  | unclaimed with a phone whose ZNS is refused (-141)           |
| 10 %  | none     | unclaimed, no phone                                          |
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from core import clock
from core.dates import expiry_date
from storage.models import Certificate, Identity, User

ROOT = Path(__file__).resolve().parents[2]
REC = date(2024, 3, 5)
EXP = expiry_date(REC)
SHARES = [("telegram", 30), ("oa_in", 20), ("oa_out", 20), ("phone", 15), ("refused", 5), ("none", 10)]


def group_of(i: int, n: int) -> str:
    edge = 0
    for name, pct in SHARES:
        edge += pct * n // 100
        if i < edge:
            return name
    return SHARES[-1][0]


def phone(i: int) -> str:
    return f"09{i:08d}"


async def seed(sm, n: int) -> dict[int, str]:
    """Certificates 1..n (ids = index + 1), all expiring on EXP; returns cert id -> group."""
    now = clock.now()
    groups = {i + 1: group_of(i, n) for i in range(n)}
    users, idents, certs = [], [], []
    for i in range(n):
        g, cid = groups[i + 1], i + 1
        owner = None
        if g in ("telegram", "oa_in", "oa_out"):
            owner = cid
            users.append(dict(id=cid, display_name=f"Chủ thể {cid}", created_at=now, last_seen_at=now))
            channel = "telegram" if g == "telegram" else "zalo"
            ext = str(5_000_000 + cid) if channel == "telegram" else f"z{cid}"
            last = now if g != "oa_out" else now - timedelta(days=700)
            idents.append(dict(id=cid, user_id=cid, channel=channel, external_id=ext, chat_id=ext, active=True,
                               last_interaction_at=last))
        certs.append(dict(id=cid, owner_user_id=owner, product=f"SP{cid:05d}", producer=f"Cơ sở {cid}",
                          phone=phone(i) if g in ("oa_out", "phone", "refused") else None,
                          commune="Xã Mỹ Hòa", province="dong_thap", group="thuc_pham", stars=3 + i % 2,
                          decision_no=f"{cid}/QĐ-UBND", authority="province", recognized_on=REC, expires_on=EXP,
                          muted=False, source="import" if owner is None else "user", created_at=now, updated_at=now))
    async with sm() as s, s.begin():
        if users:
            await s.execute(insert(User), users)
            await s.execute(insert(Identity), idents)
        for i in range(0, len(certs), 2000):
            await s.execute(insert(Certificate), certs[i:i + 2000])
    return groups


async def touch_window(sm, groups: dict[int, str]) -> None:
    """The oa_in producers wrote to the OA today (they stay inside the 7-day window)."""
    ids = [cid for cid, g in groups.items() if g == "oa_in"]
    async with sm() as s, s.begin():
        await s.execute(update(Identity).where(Identity.id.in_(ids)).values(last_interaction_at=clock.now()))


class Fakes:
    """Fake Telegram, Zalo OA (+ OAuth) and ZNS servers, real HTTP on 127.0.0.1."""

    async def start(self, groups: dict[int, str]) -> "Fakes":
        from tests.fakes.telegram_api import FakeTelegram
        from tests.fakes.zalo_oa_api import FakeZaloOAAPI
        from tests.fakes.zns_api import FakeZnsAPI
        self.tg = await FakeTelegram().start()
        self.oa = await FakeZaloOAAPI().start()
        self.zns = FakeZnsAPI(self.oa)
        await self.zns.start()
        self.zns.template("T_CERT", {"product_name": 100, "stars": 10, "decision_no": 50, "expiry_date": 10,
                                     "window_open": 10, "window_close": 10, "bot_guide": 100})
        for i, (cid, g) in enumerate(sorted(groups.items())):
            if g == "refused":
                self.zns.fail_phone("84" + phone(cid - 1)[1:], -141)
        self.access, self.refresh = self.oa.issue_pair()
        self.runs: list[tuple] = []          # (day, seconds, return code) of each remind process
        return self

    async def stop(self) -> None:
        await self.zns.stop()
        await self.oa.stop()
        await self.tg.stop()

    def env(self, db_url: str) -> dict:
        return {**os.environ, "DATABASE_URL": db_url, "TELEGRAM_BOT_TOKEN": self.tg.token,
                "TELEGRAM_API_URL": self.tg.url, "ZALO_MODE": "oa", "ZALO_OA_APP_ID": self.oa.app_id,
                "ZALO_OA_APP_SECRET": self.oa.app_secret, "ZALO_OA_SECRET_KEY": self.oa.secret_key,
                "ZALO_OA_ACCESS_TOKEN": self.access, "ZALO_OA_REFRESH_TOKEN": self.refresh,
                "ZALO_OA_API_URL": self.oa.url, "ZALO_OAUTH_URL": self.oa.url, "ZALO_ZNS_API_URL": self.zns.url,
                "ZNS_TEMPLATE_CERT_EXPIRY": "T_CERT", "ZNS_TEMPLATE_ROUND_DEADLINE": "", "ZNS_OFFSETS": "180,125",
                "REMINDER_OFFSETS": "210,180,150,125,0", "ROUND_REMINDER_OFFSETS": "none",
                "SEND_RATE": os.environ.get("REACH_SEND_RATE", "400"), "PER_CHAT_INTERVAL": "0",
                "OCOP_CLOCK": clock.now().isoformat(), "ADMIN_IDS": "", "ZALO_WEBHOOK_URL": "", "WEBHOOK_URL": ""}

    def provider_sent(self) -> int:
        return len(self.tg.sent) + len(self.oa.sent) + len(self.zns.sent)


async def remind(fakes: Fakes, db_url: str, day: date, *, kill_after_sent: int | None = None,
                 kill_after_s: float | None = None) -> tuple[int, str]:
    """`bot.py remind --today DAY` as a real process; optionally SIGKILLed once the providers have
    received `kill_after_sent` more messages, or after `kill_after_s` seconds."""
    before = fakes.provider_sent()
    t_start = asyncio.get_running_loop().time()
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "bot.py"), "remind", "--today", day.isoformat(),
                                                env=fakes.env(db_url), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, cwd=str(ROOT))
    if kill_after_sent is not None or kill_after_s is not None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        while proc.returncode is None:
            if kill_after_sent is not None and fakes.provider_sent() - before >= kill_after_sent:
                break
            if kill_after_s is not None and loop.time() - t0 >= kill_after_s:
                break
            await asyncio.sleep(0.005)
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
    out, err = await proc.communicate()
    fakes.runs.append((day, asyncio.get_running_loop().time() - t_start, proc.returncode))
    return proc.returncode, out.decode() + err.decode()
