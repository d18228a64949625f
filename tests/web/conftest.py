"""The console served by aiohttp's test server (aiohttp.test_utils under pytest-asyncio)."""
from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import date

import pytest
from aiohttp import CookieJar, web
from aiohttp.test_utils import TestClient, TestServer

from core.dates import expiry_date
from core.web import auth
from core.web.app import mount
from storage.models import Certificate, Identity, Role, User

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')

KINDS = ("officer", "national", "admin", "none")


class Console:
    def __init__(self, core, client: TestClient):
        self.core, self.client = core, client
        self._ext = 5000

    async def person(self, kind: str = "officer", province: str | None = "cao_bang", name: str = "Cán bộ A") -> int:
        """A user who wrote to the bot; kind: officer (of province) | national | admin | none."""
        self._ext += 1
        ext = "1000" if kind == "admin" else str(self._ext)
        async with self.core.sessionmaker() as s:
            u = User(display_name=name)
            s.add(u)
            await s.flush()
            s.add(Identity(user_id=u.id, channel="telegram", external_id=ext, chat_id=ext))
            if kind in ("officer", "national"):
                s.add(Role(user_id=u.id, role="officer", province=province if kind == "officer" else None))
            await s.commit()
            return u.id

    async def token(self, user_id: int) -> str:
        async with self.core.sessionmaker() as s:
            t = await auth.create_login_token(s, user_id)
            await s.commit()
            return t

    async def sign_in(self, user_id: int):
        t = await self.token(user_id)
        r = await self.client.post(f"/quantri/dang-nhap/{t}", allow_redirects=False)
        assert r.status == 303, await r.text()
        return r

    async def as_(self, kind: str, province: str | None = "cao_bang") -> int:
        """A fresh signed-in browser session for a new person of that kind."""
        self.client.session.cookie_jar.clear()
        uid = await self.person(kind, province)
        if kind != "none":
            await self.sign_in(uid)
        return uid

    async def csrf(self, path: str = "/quantri/") -> str:
        r = await self.client.get(path)
        m = CSRF_RE.search(await r.text())
        assert m, "no csrf token on the page"
        return m.group(1)

    async def get(self, path: str, **kw):
        return await self.client.get(path, allow_redirects=False, **kw)

    async def post(self, path: str, data=None, *, csrf: bool = True, **kw):
        data = dict(data or {}) if not hasattr(data, "add_field") else data
        if csrf and isinstance(data, dict):
            data.setdefault("csrf", await self.csrf())
        return await self.client.post(path, data=data, allow_redirects=False, **kw)

    async def add_certs(self, rows: list[dict]) -> list[int]:
        ids = []
        async with self.core.sessionmaker() as s:
            for r in rows:
                rec = r.get("recognized_on", date(2025, 1, 10))
                c = Certificate(**{"producer": "HTX A", "group": "thuc_pham", "stars": 3, "decision_no": f"QĐ{len(ids)}",
                                   "province": "Cao Bằng", "recognized_on": rec, "expires_on": expiry_date(rec),
                                   "source": "import", **r})
                s.add(c)
                await s.flush()
                ids.append(c.id)
            await s.commit()
        return ids


@asynccontextmanager
async def serve(core):
    """The console mounted on a root app like the bot's, behind aiohttp's test server."""
    app = web.Application(client_max_size=6 * 1024 * 1024)
    mount(app, core)
    client = TestClient(TestServer(app), cookie_jar=CookieJar(unsafe=True))
    await client.start_server()
    try:
        yield Console(core, client)
    finally:
        await client.close()


@pytest.fixture
async def console(db_url, make_core):
    async with serve(make_core(db_url, public_url="http://console.test", web_console=True)) as c:
        yield c


@pytest.fixture
async def sqlite_console(sqlite_url, make_core):
    """The same on SQLite only (for tests that do not depend on the database)."""
    async with serve(make_core(sqlite_url, public_url="http://console.test", web_console=True)) as c:
        yield c
