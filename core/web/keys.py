"""Typed keys of what the console's middlewares put on the app and on each request."""
from aiohttp import web

CORE = web.AppKey("core", object)          # core.app.Core
DB = web.RequestKey("db", object)          # the request's AsyncSession (one transaction)
VIEWER = web.RequestKey("viewer", object)  # core.web.auth.Viewer | None
NAV = web.AppKey("nav", list)             # extra menu entries (key, label, href) from feature modules
BADGES = web.AppKey("badges", dict)        # menu key -> async fn(db, viewer) -> int shown beside it
COUNTS = web.RequestKey("counts", dict)    # this request's badge numbers
