"""Pages rendered with the project's Jinja2 environment (autoescape, StrictUndefined)."""
from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from core.templates import environment, web_error, web_text
from core.web.keys import COUNTS, NAV as EXTRA_NAV, VIEWER

NAV = [("tong-quan", web_text("nav.overview"), "/quantri/"), ("san-pham", web_text("nav.products"), "/quantri/san-pham"),
       ("nhap", web_text("nav.imports"), "/quantri/nhap"), ("bao-cao", web_text("nav.report"), "/quantri/bao-cao")]


def qs(params: dict, **changes) -> str:
    """'?a=1&b=2' from params with changes applied (None / '' removes a key)."""
    merged = {**params, **changes}
    clean = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(clean) if clean else ""


def html(request: web.Request, template: str, **ctx) -> str:
    viewer = request.get(VIEWER)
    nav = NAV + list(request.app.get(EXTRA_NAV, []))
    base = dict(viewer=viewer, csrf=viewer.csrf if viewer else "", nav=nav, counts=request.get(COUNTS) or {}, active=ctx.pop("active", ""),
                title=ctx.pop("title", web_text("console.title")), qs=qs)
    return environment().get_template(f"{template}.j2").render(**base, **ctx)


def page(request: web.Request, template: str, *, http_status: int = 200, **ctx) -> web.Response:
    return web.Response(text=html(request, template, **ctx), status=http_status, content_type="text/html",
                        charset="utf-8")


def error_page(request: web.Request, status: int, key: str, message: str = "", *, back: str = "",
               **values) -> web.Response:
    """An error page: heading and (unless `message` is given) message from content/vi/web_errors.yml <key>."""
    heading = web_error(f"{key}.heading")
    return page(request, "web/error", http_status=status, title=heading, heading=heading,
                message=message or web_error(f"{key}.message", **values), back=back)


def bad_request(request: web.Request, message: str, back: str = "") -> web.Response:
    return error_page(request, 400, "bad_request", message, back=back)


def not_found(request: web.Request) -> web.Response:
    return error_page(request, 404, "not_found", back="/quantri/san-pham")


def redirect(location: str, status: int = 303) -> web.Response:
    """A redirect *returned* (not raised), so the request's transaction is committed."""
    return web.Response(status=status, headers={"Location": location})
