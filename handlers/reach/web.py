"""HTTP routes of the reach feature on the bot's one aiohttp server:

- GET  /tep/<token>   a person's file (handlers/reach/files.py), 404 when unknown or expired;
- POST /zalo/zns      ZNS delivery receipts (`user_received_message`, signed like OA events) when
                      the chat runs on Bot Platform; on an OA the OA webhook passes them on.
"""
from __future__ import annotations

import json
import logging
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import or_, update

from core.templates import web_text
from storage.models import Delivery, utcnow

log = logging.getLogger("ocop.reach")
RECEIPT_PATH = "/zalo/zns"


async def mark_delivered(sessionmaker, event: dict) -> int:
    """user_received_message: the ZNS row with this tracking_id (our delivery key) / msg_id."""
    msg = event.get("message") or {}
    tracking = str(msg.get("tracking_id") or event.get("tracking_id") or "")
    msg_id = str(msg.get("msg_id") or event.get("msg_id") or "")
    conds = []
    if tracking:
        conds.append(Delivery.key == tracking)
    if msg_id:
        conds.append(Delivery.provider_message_id == msg_id)
    if not conds:
        return 0
    async with sessionmaker() as s, s.begin():
        res = await s.execute(update(Delivery).where(Delivery.channel == "zns", or_(*conds),
                                                     Delivery.delivered_at.is_(None))
                              .values(delivered_at=utcnow()).execution_options(synchronize_session=False))
        return res.rowcount or 0


def add_routes(app: web.Application, settings, sessionmaker) -> None:
    from handlers.reach.files import fetch

    async def serve_file(request: web.Request) -> web.Response:
        async with sessionmaker() as s, s.begin():
            row = await fetch(s, request.match_info["token"])
            if row is None:
                return web.Response(status=404, text=web_text("console.link_expired"),
                                    content_type="text/plain", charset="utf-8")
            name = quote(row.filename)
            return web.Response(body=row.content, content_type=row.mime,
                                headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                                         "Cache-Control": "private, no-store"})

    async def receipt(request: web.Request) -> web.Response:
        from channels.zalo_oa import SIGNATURE_HEADER, verify_signature
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not verify_signature(request.headers.get(SIGNATURE_HEADER, ""), raw, body,
                                                              settings.zalo_oa_app_id, settings.zalo_oa_secret_key):
            return web.json_response({"error": 401, "message": "invalid signature"}, status=401)
        if body.get("event_name") == "user_received_message":
            await mark_delivered(sessionmaker, body)
        return web.json_response({"error": 0, "message": "ok"})

    app.router.add_get("/tep/{token}", serve_file)
    if settings.zns_enabled and not (settings.zalo_mode == "oa" and settings.zalo_webhook_url.endswith(RECEIPT_PATH)):
        app.router.add_post(RECEIPT_PATH, receipt)
