"""Typed keys of what the console's middlewares put on the app and on each request."""
from aiohttp import web

CORE = web.AppKey("core", object)          # core.app.Core
DB = web.RequestKey("db", object)          # the request's AsyncSession (one transaction)
VIEWER = web.RequestKey("viewer", object)  # core.web.auth.Viewer | None
