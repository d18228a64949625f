"""Sign-in pages: the one-time link (GET shows a button, POST spends the link) and logout."""
from __future__ import annotations

from aiohttp import web

from core.web import auth
from core.web.keys import CORE, DB, VIEWER
from core.web.render import page, redirect
from core.audit import audit

def _secure(request: web.Request) -> bool:
    return request.app[CORE].settings.base_url.startswith("https://")


async def signin_needed(request: web.Request):
    if request.get(VIEWER) is not None:
        return redirect("/quantri/")
    return page(request, "web/signin_needed")


async def link_page(request: web.Request):
    """GET: never spends the link (messengers fetch links to draw previews)."""
    token = request.match_info["token"]
    state = await auth.token_state(request[DB], token)
    return page(request, "web/signin", state=state, token=token, http_status=200 if state == "ok" else 410)


async def link_post(request: web.Request):
    token = request.match_info["token"]
    db = request[DB]
    state, user_id = await auth.spend_token(db, token)
    viewer = await auth.viewer_for(db, request.app[CORE].settings, user_id) if user_id else None
    if state != "ok" or viewer is None:
        return page(request, "web/signin", state=state if state != "ok" else "no_role", token=token,
                    http_status=410 if state in ("used", "expired") else 403)
    raw = await auth.start_session(db, user_id)
    await audit(db, user_id, "web.sign_in")
    resp = redirect("/quantri/")
    resp.set_cookie(auth.COOKIE, raw, httponly=True, samesite="Lax", secure=_secure(request), path="/quantri/",
                    max_age=int(auth.IDLE_TIMEOUT.total_seconds()) * 3)
    return resp


async def logout(request: web.Request):
    viewer = request[VIEWER]
    await auth.end_session(request[DB], request.cookies.get(auth.COOKIE))
    await audit(request[DB], viewer.user_id, "web.sign_out")
    resp = redirect("/quantri/dang-nhap")
    resp.del_cookie(auth.COOKIE, path="/quantri/")
    return resp


def routes(r) -> None:
    r.get("/dang-nhap", signin_needed, public=True)
    r.get("/dang-nhap/{token}", link_page, public=True)
    r.post("/dang-nhap/{token}", link_post, public=True)
    r.post("/dang-xuat", logout)
