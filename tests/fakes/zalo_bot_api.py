"""A fake Zalo Bot Platform API server (real HTTP) plus a webhook pusher, for offline tests.

Speaks /bot<token>/<method> with JSON or form bodies and the {ok, result, error_code, description}
envelope. getUpdates hands out ONE update per call and answers 408 after `poll_timeout` when
nothing is queued. sendMessage refuses texts over 2,000 characters. Errors can be injected per
method (fail_next) or per chat (fail_chat).
"""
from __future__ import annotations

import asyncio
import itertools
import time

import aiohttp
from aiohttp import web

TEXT_LIMIT = 2000


def text_update(user: str, text: str, *, message_id: str | None = None, name: str = "Nguyễn Văn A",
                date_ms: bool = True) -> dict:
    mid = message_id or f"m{next(_ids)}"
    now = time.time()
    return {"event_name": "message.text.received",
            "message": {"message_id": mid, "date": int(now * 1000) if date_ms else int(now),
                        "from": {"id": user, "display_name": name, "is_bot": False},
                        "chat": {"id": user, "chat_type": "PRIVATE"}, "text": text}}


_ids = itertools.count(1)


class FakeZaloBotAPI:
    def __init__(self, token: str = "123:secret", poll_timeout: float = 0.2):
        self.token = token
        self.poll_timeout = poll_timeout
        self.updates: asyncio.Queue = asyncio.Queue()
        self.sent: list[dict] = []            # {"chat_id", "text"} in order
        self.calls: list[str] = []            # method names in order
        self.webhook: dict | None = None
        self._method_errors: dict[str, list[tuple[int, str]]] = {}
        self._chat_errors: dict[str, tuple[int, str]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- test controls -------------------------------------------------------------------------
    def fail_next(self, method: str, code: int, description: str = "injected", times: int = 1) -> None:
        self._method_errors.setdefault(method, []).extend([(code, description)] * times)

    def fail_chat(self, chat_id: str, code: int, description: str) -> None:
        self._chat_errors[chat_id] = (code, description)

    def texts_to(self, chat_id: str) -> list[str]:
        return [m["text"] for m in self.sent if m["chat_id"] == chat_id]

    def queue_update(self, update: dict) -> None:
        self.updates.put_nowait(update)

    async def push(self, update: dict, *, secret: str | None = None) -> int:
        """POST an update to the registered webhook like Zalo does; returns the HTTP status."""
        assert self.webhook, "setWebhook was not called"
        headers = {"X-Bot-Api-Secret-Token": self.webhook["secret_token"] if secret is None else secret}
        async with aiohttp.ClientSession() as s:
            async with s.post(self.webhook["url"], json=update, headers=headers) as resp:
                await resp.read()
                return resp.status

    # --- server --------------------------------------------------------------------------------
    async def start(self) -> "FakeZaloBotAPI":
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _ok(result) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _err(code: int, description: str, status: int = 200) -> web.Response:
        return web.json_response({"ok": False, "error_code": code, "description": description}, status=status)

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._err(401, "Unauthorized", 401)
        method = request.match_info["method"]
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
        else:
            body = dict(await request.post())
        self.calls.append(method)
        queued = self._method_errors.get(method)
        if queued:
            code, desc = queued.pop(0)
            return self._err(code, desc)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._err(404, f"Method {method} not found", 404)
        return await handler(body or {})

    async def _m_getMe(self, body):
        return self._ok({"id": self.token.split(":")[0], "account_name": "Bot OCOP", "account_type": "BASIC",
                         "can_join_groups": False})

    async def _m_getUpdates(self, body):
        if self.webhook:
            return self._err(409, "Conflict: webhook is active")
        wait = min(float(body.get("timeout") or 30), self.poll_timeout)
        try:
            update = await asyncio.wait_for(self.updates.get(), timeout=wait)
        except asyncio.TimeoutError:
            return self._err(408, "Request timeout", 408)
        return self._ok(update)

    async def _m_setWebhook(self, body):
        secret = str(body.get("secret_token") or "")
        if not 8 <= len(secret) <= 256 or not str(body.get("url") or "").startswith(("https://", "http://127.")):
            return self._err(400, "Bad Request: invalid url or secret_token")
        self.webhook = {"url": body["url"], "secret_token": secret}
        return self._ok({"url": body["url"], "updated_at": int(time.time() * 1000),
                         "has_custom_certificate": False})

    async def _m_deleteWebhook(self, body):
        self.webhook = None
        return self._ok(True)

    async def _m_getWebhookInfo(self, body):
        return self._ok({"url": (self.webhook or {}).get("url", "")})

    async def _m_sendMessage(self, body):
        chat_id, text = str(body.get("chat_id") or ""), str(body.get("text") or "")
        if not chat_id or not text:
            return self._err(400, "Bad Request: chat_id and text are required")
        if len(text) > TEXT_LIMIT:
            return self._err(400, "Bad Request: text is too long")
        if chat_id in self._chat_errors:
            code, desc = self._chat_errors[chat_id]
            return self._err(code, desc)
        self.sent.append({"chat_id": chat_id, "text": text})
        return self._ok({"message_id": f"s{len(self.sent)}", "date": int(time.time() * 1000)})

    async def _m_sendPhoto(self, body):
        if not str(body.get("photo") or "").startswith(("http://", "https://")):
            return self._err(400, "Bad Request: photo must be an URL")
        self.sent.append({"chat_id": str(body.get("chat_id")), "text": "", "photo": body["photo"]})
        return self._ok({"message_id": f"s{len(self.sent)}"})
