"""The console's aiohttp sub-application mounted at /quantri/ on the bot's own HTTP server.

Middlewares (outermost first): security headers → Vietnamese error pages (never a traceback) →
one database session per request → the signed-in officer (role and scope read every request) →
CSRF (session token + Origin) on every POST. Feature pages register through `WebRoutes`.
"""
from __future__ import annotations

import hmac
import logging
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from core.web import auth
from core.web.keys import BADGES, CORE, COUNTS, DB, NAV, VIEWER
from core.web.render import error_page, page

log = logging.getLogger("ocop.web")

PREFIX = "/quantri"
STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD = 6 * 1024 * 1024           # the spreadsheet reader refuses files over 5 MB with a message

# feature modules exposing routes(r: WebRoutes)
PAGES = [
    "core.web.signin",
    "handlers.console.overview",
    "handlers.console.listing",
    "handlers.console.product",
    "handlers.console.imports",
    "handlers.console.report",
    "handlers.officer.web",
    "handlers.fairs.web",
    "handlers.broadcast.web",
    "handlers.rounds.web",
    "handlers.dossier.web",
    "handlers.roles.web",
    "handlers.faq.web",
    "handlers.reach.console",
]

CSP = "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


class WebRoutes:
    """What a feature module sees: add GET/POST pages; `public=True` needs no sign-in."""

    def __init__(self, app: web.Application):
        self.app = app

    def get(self, path: str, handler, *, public: bool = False, name: str | None = None) -> None:
        handler.public = public
        self.app.router.add_get(path, handler, name=name, allow_head=False)

    def nav(self, key: str, label: str, href: str, badge=None) -> None:
        """A menu entry; `badge` = async fn(db, viewer) -> int shown beside it (e.g. open questions)."""
        self.app[NAV].append((key, label, href))
        if badge is not None:
            self.app[BADGES][key] = badge

    def crud(self, base: str, *, listing, new, edit, save, delete) -> None:
        """The five routes of an editable list: base, base/moi, base/{id}, base/{id}/xoa (POSTs to base
        create, to base/{id} update)."""
        self.get(base, listing)
        self.get(base + "/moi", new)
        self.post(base, save)
        self.get(base + "/{id}", edit)
        self.post(base + "/{id}", save)
        self.post(base + "/{id}/xoa", delete)

    def post(self, path: str, handler, *, public: bool = False, name: str | None = None) -> None:
        handler.public = public
        self.app.router.add_post(path, handler, name=name)


@web.middleware
async def headers_mw(request: web.Request, handler):
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        resp = exc
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"   # a sign-in link never leaks to another site (no-referrer
    # would make browsers send "Origin: null" on form posts)
    if not request.path.startswith(PREFIX + "/static/"):
        resp.headers.setdefault("Cache-Control", "no-store")
    if isinstance(resp, web.HTTPException):
        raise resp
    return resp


ERRORS = {400: "bad_request", 403: "forbidden", 404: "page_not_found", 405: "method_not_allowed",
          413: "too_big"}      # aiohttp's HTTP errors -> content/vi/web_errors.yml


@web.middleware
async def errors_mw(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in ERRORS and not exc.text.startswith("<!doctype"):
            return error_page(request, exc.status, ERRORS[exc.status])
        raise
    except Exception:
        log.exception("console page failed: %s %s", request.method, request.path)
        return error_page(request, 500, "server_error")


@web.middleware
async def db_mw(request: web.Request, handler):
    """One transaction per request, committed when the page succeeds (also the session touch)."""
    core = request.app[CORE]
    async with core.sessionmaker() as s:
        request[DB] = s
        resp = await handler(request)
        await s.commit()
        return resp


def _public(request: web.Request) -> bool:
    info = request.match_info
    if isinstance(info, web.UrlMappingMatchInfo) and info.http_exception is None:
        return getattr(info.handler, "public", False) or request.path.startswith(PREFIX + "/static/")
    return True      # 404 / 405 pages


@web.middleware
async def auth_mw(request: web.Request, handler):
    core = request.app[CORE]
    request[VIEWER] = None
    row = await auth.load_session(request[DB], request.cookies.get(auth.COOKIE))
    if row is not None:
        viewer = await auth.viewer_for(request[DB], core.settings, row.user_id)
        if viewer is not None:
            request[VIEWER] = auth.Viewer(**{**viewer.__dict__, "session_id": row.id, "csrf": row.csrf_token})
        elif not _public(request):
            return page(request, "web/no_access", http_status=403)
    if request[VIEWER] is None and not _public(request):
        if request.method == "GET":
            return page(request, "web/signin_needed", http_status=401)
        return error_page(request, 401, "session_expired")
    request[COUNTS] = {}
    if request[VIEWER] is not None and request.method == "GET":
        for key, fn in request.app[BADGES].items():
            request[COUNTS][key] = await fn(request[DB], request[VIEWER])
    return await handler(request)


def allowed_origins(request: web.Request) -> set[str]:
    own = f"{request.scheme}://{request.host}"
    pub = urlsplit(request.app[CORE].settings.base_url)
    return {own, f"{pub.scheme}://{pub.netloc}"}


def origin_ok(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None and request.headers.get("Referer"):
        ref = urlsplit(request.headers["Referer"])
        origin = f"{ref.scheme}://{ref.netloc}"
    return origin is None or origin in allowed_origins(request)


@web.middleware
async def csrf_mw(request: web.Request, handler):
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return await handler(request)
    if not origin_ok(request):
        return error_page(request, 403, "foreign_origin")
    viewer = request[VIEWER]
    if viewer is not None:
        sent = request.headers.get("X-CSRF-Token", "")
        if not sent and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            sent = str(form.get("csrf", ""))
        if not hmac.compare_digest(sent.encode(), viewer.csrf.encode()):
            return error_page(request, 403, "csrf")
    return await handler(request)


async def _to_slash(request: web.Request):
    raise web.HTTPFound(PREFIX + "/")


def console_app(core) -> web.Application:
    app = web.Application(middlewares=[headers_mw, errors_mw, db_mw, auth_mw, csrf_mw],
                          client_max_size=MAX_UPLOAD)
    app[CORE] = core
    app[NAV], app[BADGES] = [], {}
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
    routes = WebRoutes(app)
    for name in PAGES:
        import_module(name).routes(routes)
    return app


def mount(root: web.Application, core) -> None:
    """Serve the console at /quantri/ on `root` (the bot's one HTTP server)."""
    root.router.add_get(PREFIX, _to_slash)
    root.add_subapp(PREFIX, console_app(core))
