"""/_fake/* control routes: drive a fake server that runs in another process (benches, subprocess tests).

POST /_fake/push        {"kind": "text|command|callback|contact", "chat_id": 1, "text"|"data"|"phone": …}
POST /_fake/push_many   {"items": [<push bodies>]}                    -> number queued
GET  /_fake/stats       counts: sent, edits, rejected (and by HTTP status), violations, pending updates,
                        calls per method
GET  /_fake/sent?chat_id=N                                             -> sent messages (bytes as lengths)
POST /_fake/script      {"chat_id": N, "state": "blocked|deactivated|not_found|cant_initiate|ok"}
                        or {"chat_id": N|null, "errors": [429, 502], "retry_after": 1}
POST /_fake/rates       {"overall": [30, 1.0] | null, "per_chat": [1, 1.0] | null}
POST /_fake/reset
"""
from __future__ import annotations

from collections import Counter

from aiohttp import web


def _push(fake, body: dict) -> dict:
    kind, chat = body.get("kind", "text"), int(body["chat_id"])
    if kind == "text":
        return fake.push_text(chat, body["text"])
    if kind == "command":
        return fake.push_command(chat, body["command"], body.get("payload", ""))
    if kind == "callback":
        return fake.push_callback(chat, body["data"], body.get("message_id"))
    if kind == "contact":
        return fake.push_contact(chat, body["phone"])
    raise web.HTTPBadRequest(text=f"unknown kind {kind}")


def add_control_routes(app: web.Application, fake) -> None:
    async def push(request):
        return web.json_response({"ok": True, "result": _push(fake, await request.json())})

    async def push_many(request):
        items = (await request.json())["items"]
        for item in items:
            _push(fake, item)
        return web.json_response({"ok": True, "result": len(items)})

    async def stats(request):
        with fake.lock:
            return web.json_response({"sent": len(fake.sent), "edits": len(fake.edits),
                                      "rejected": len(fake.errors),
                                      "rejected_by_status": dict(Counter(str(e[2]) for e in fake.errors)),
                                      "last_rejected": fake.errors[-10:], "violations": fake.violation_count,
                                      "pending_updates": len(fake.updates),
                                      "calls": dict(fake.call_counts)})

    async def sent(request):
        chat = request.query.get("chat_id")
        with fake.lock:
            rows = [s.to_json() for s in fake.sent if chat is None or s.chat_id == int(chat)]
        return web.json_response(rows)

    async def script(request):
        body = await request.json()
        chat = body.get("chat_id")
        if "errors" in body:
            fake.script_errors(body["errors"], chat, body.get("retry_after", 1))
        else:
            state = body.get("state", "ok")
            fake.unblock(chat) if state == "ok" else {
                "blocked": fake.block, "deactivated": fake.deactivate, "not_found": fake.not_found,
                "cant_initiate": fake.cant_initiate}[state](chat)
        return web.json_response({"ok": True})

    async def rates(request):
        body = await request.json()
        fake.set_rates(tuple(body["overall"]) if body.get("overall") else None,
                       tuple(body["per_chat"]) if body.get("per_chat") else None)
        return web.json_response({"ok": True})

    async def reset(request):
        fake.reset()
        return web.json_response({"ok": True})

    app.router.add_post("/_fake/push", push)
    app.router.add_post("/_fake/push_many", push_many)
    app.router.add_get("/_fake/stats", stats)
    app.router.add_get("/_fake/sent", sent)
    app.router.add_post("/_fake/script", script)
    app.router.add_post("/_fake/rates", rates)
    app.router.add_post("/_fake/reset", reset)
