"""Sign-in by one-time link, sessions, CSRF and the page protections."""
from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.web import auth
from storage.models import AuditLog, Code, Role, WebSession
from tests.helpers import msg, texts


async def test_get_shows_button_and_does_not_spend_the_link(console):
    uid = await console.person("officer")
    t = await console.token(uid)
    for _ in range(3):                       # a link-preview fetcher may GET it several times
        r = await console.get(f"/quantri/dang-nhap/{t}")
        body = await r.text()
        assert r.status == 200 and f'action="/quantri/dang-nhap/{t}"' in body and "Đăng nhập" in body
    assert "Set-Cookie" not in r.headers
    r = await console.post(f"/quantri/dang-nhap/{t}", csrf=False)
    assert r.status == 303 and r.headers["Location"] == "/quantri/"
    cookie = r.cookies[auth.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/quantri/"
    assert not cookie["secure"]                                   # PUBLIC_URL is http here
    r = await console.get("/quantri/")
    assert r.status == 200 and "Tổng quan" in await r.text()


async def test_used_link_is_refused(console):
    uid = await console.person("officer")
    t = await console.token(uid)
    assert (await console.post(f"/quantri/dang-nhap/{t}", csrf=False)).status == 303
    console.client.session.cookie_jar.clear()
    r = await console.post(f"/quantri/dang-nhap/{t}", csrf=False)
    assert r.status == 410 and "đã được dùng" in await r.text()
    assert auth.COOKIE not in r.cookies
    r = await console.get(f"/quantri/dang-nhap/{t}")
    assert r.status == 410 and "đã được dùng" in await r.text()


async def test_expired_link_is_refused(console, today):
    uid = await console.person("officer")
    t = await console.token(uid)
    clock.set_clock(clock.StartedClock(clock.now() + timedelta(minutes=11)))
    r = await console.get(f"/quantri/dang-nhap/{t}")
    assert r.status == 410 and "hết hạn" in await r.text()
    r = await console.post(f"/quantri/dang-nhap/{t}", csrf=False)
    assert r.status == 410 and auth.COOKIE not in r.cookies


async def test_unknown_link_and_pages_without_session(console):
    r = await console.get("/quantri/dang-nhap/khong-co-that")
    assert r.status == 410 and "không đúng" in await r.text()
    r = await console.get("/quantri/")
    assert r.status == 401 and "/quantri" in await r.text()
    r = await console.post("/quantri/dang-xuat", csrf=False)
    assert r.status == 401


async def test_revoked_officer_loses_access_at_once(console):
    uid = await console.as_("officer")
    assert (await console.get("/quantri/")).status == 200
    async with console.core.sessionmaker() as s:
        role = await s.scalar(select(Role).where(Role.user_id == uid))
        role.revoked_at = clock.now()
        await s.commit()
    r = await console.get("/quantri/")
    assert r.status == 403 and "không còn quyền" in (await r.text()).lower()


async def test_non_officer_link_gives_no_session(console):
    uid = await console.person("none")
    t = await console.token(uid)           # made directly: the bot would never issue one
    r = await console.post(f"/quantri/dang-nhap/{t}", csrf=False)
    assert r.status == 403 and auth.COOKIE not in r.cookies


async def test_idle_session_ends_after_8_hours_and_logout_ends_it(console):
    await console.as_("officer")
    clock.set_clock(clock.StartedClock(clock.now() + timedelta(hours=7)))
    assert (await console.get("/quantri/")).status == 200
    clock.set_clock(clock.StartedClock(clock.now() + timedelta(hours=8, minutes=1)))
    assert (await console.get("/quantri/")).status == 401
    uid = await console.as_("officer")
    r = await console.post("/quantri/dang-xuat")
    assert r.status == 303
    assert (await console.get("/quantri/")).status == 401
    async with console.core.sessionmaker() as s:
        sessions = list(await s.scalars(select(WebSession).where(WebSession.user_id == uid)))
        actions = [a.action for a in await s.scalars(select(AuditLog).where(AuditLog.actor_user_id == uid))]
    assert sessions and all(x.ended_at is not None for x in sessions)
    assert actions == ["web.sign_in", "web.sign_out"]


async def test_csrf_token_and_origin_are_checked(console):
    await console.as_("officer")
    r = await console.post("/quantri/dang-xuat", {"csrf": "sai"}, csrf=False)
    assert r.status == 403 and "không khớp" in await r.text()
    r = await console.post("/quantri/dang-xuat", csrf=False)
    assert r.status == 403
    r = await console.post("/quantri/dang-xuat", headers={"Origin": "https://evil.example"})
    assert r.status == 403 and "không đến từ trang quản trị" in await r.text()
    assert (await console.get("/quantri/")).status == 200               # still signed in
    r = await console.post("/quantri/dang-xuat", headers={"Origin": "http://console.test"})
    assert r.status == 303


async def test_security_headers_and_error_pages(console):
    await console.as_("officer")
    r = await console.get("/quantri/")
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert r.headers["X-Frame-Options"] == "DENY"
    body = await r.text()
    assert "http://" not in body.replace("http://console.test", "") and "https://" not in body
    r = await console.get("/quantri/khong-co-trang-nay")
    assert r.status == 404 and "Không tìm thấy" in await r.text()
    assert r.headers["X-Frame-Options"] == "DENY"
    r = await console.get("/quantri/static/console.css")
    assert r.status == 200


async def test_secure_cookie_when_public_url_is_https(sqlite_url, make_core):
    from tests.web.conftest import serve
    async with serve(make_core(sqlite_url, public_url="https://ocop.example.gov.vn")) as c:
        uid = await c.person("officer")
        r = await c.client.post(f"/quantri/dang-nhap/{await c.token(uid)}", allow_redirects=False)
        assert r.status == 303 and r.cookies[auth.COOKIE]["secure"]


async def test_quantri_command_gives_a_link_only_to_officers(make_core, sqlite_url):
    core = make_core(sqlite_url, public_url="https://ocop.example.gov.vn", web_console=True)
    out = await core.handle(msg("/quantri", user="nobody"))
    assert "chỉ dành cho" in texts(out) and not out[0].no_preview
    async with core.sessionmaker() as s:
        assert not list(await s.scalars(select(Code).where(Code.purpose == "weblogin")))
    out = await core.handle(msg("/quantri", user="admin"))            # console:admin is an admin
    assert out[0].no_preview and "https://ocop.example.gov.vn/quantri/dang-nhap/" in out[0].text
    token = out[0].text.split("/quantri/dang-nhap/")[1].split('"')[0]
    async with core.sessionmaker() as s:
        assert await auth.token_state(s, token) == "ok"


async def test_sign_in_link_is_sent_to_telegram_without_link_preview():
    from channels.telegram_render import send_reply
    from core.messages import Reply

    class Bot:
        def __init__(self):
            self.calls = []

        async def do_api_request(self, endpoint, api_kwargs=None, **kw):
            self.calls.append(api_kwargs)
            return {"message_id": len(self.calls)}

    bot = Bot()
    await send_reply(bot, 1, Reply('<a href="http://x/quantri/dang-nhap/t">link</a>', no_preview=True))
    await send_reply(bot, 1, Reply("khác"))
    assert bot.calls[0]["link_preview_options"].is_disabled is True
    assert "link_preview_options" not in bot.calls[1]
