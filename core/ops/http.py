"""HTTP routes of operations on the bot's one aiohttp server: /healthz (checks the database) and
/metrics (Prometheus; only when METRICS_TOKEN is set, then `Authorization: Bearer <token>` or
`?token=<token>`)."""
from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web
from sqlalchemy import text

from core.ops import metrics

log = logging.getLogger("ocop.ops.http")
DB_TIMEOUT = 5.0


async def database_ok(engine) -> str:
    """'' when `SELECT 1` answers within DB_TIMEOUT, else a short reason (no connection details)."""
    async def probe():
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    try:
        await asyncio.wait_for(probe(), DB_TIMEOUT)
        return ""
    except asyncio.TimeoutError:
        return "database: timeout"
    except Exception as exc:          # any driver error: the reason is the error's class only
        log.warning("healthz: database check failed: %s", exc)
        return f"database: {type(exc).__name__}"


def add_routes(web_app: web.Application, core) -> None:
    async def healthz(_request):
        reason = await database_ok(core.engine)
        if reason:
            return web.json_response({"ok": False, "error": reason}, status=503)
        return web.json_response({"ok": True, "db": "ok"})

    web_app.router.add_get("/healthz", healthz)
    token = core.settings.metrics_token
    if not token:
        return

    async def metrics_route(request):
        auth = request.headers.get("Authorization", "")
        given = auth[7:].strip() if auth.lower().startswith("bearer ") else request.query.get("token", "")
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(status=401, text="unauthorized", headers={"WWW-Authenticate": "Bearer"})
        try:
            body = await asyncio.wait_for(metrics.scrape(core.sessionmaker), DB_TIMEOUT)
        except Exception as exc:
            log.warning("metrics scrape failed: %s", exc)
            return web.Response(status=503, text=f"database: {type(exc).__name__}")
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE_LATEST})

    web_app.router.add_get("/metrics", metrics_route)
