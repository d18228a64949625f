"""Zalo Bot Platform adapter (Telegram-like API: <ZALO_API_URL>/bot<token>/<method>).

Receives updates by long polling (getUpdates: ONE update per call, error 408 when the poll times
out empty) or, when ZALO_WEBHOOK_URL is set, by webhook (setWebhook {url, secret_token}; every
request must carry the secret in X-Bot-Api-Secret-Token, compared in constant time; a mismatch
answers 401 and processes nothing). Sends plain text with sendMessage. The platform sends photos
only by public URL, so Reply.file becomes a short notice (see channels.zalo / docs/zalo.md).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from channels.zalo_base import ZaloChannelBase
from core.messages import Incoming
from delivery.outcome import SendResult

log = logging.getLogger("ocop.zalo.bot")
POLL_TIMEOUT = 30
SECRET_HEADER = "X-Bot-Api-Secret-Token"


class ZaloBotError(Exception):
    def __init__(self, code: int, description: str = "", http_status: int = 0):
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.http_status = code, description, http_status


class ZaloBotClient:
    def __init__(self, base_url: str, token: str):
        self.url = f"{base_url.rstrip('/')}/bot{token}"
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def call(self, method: str, payload: dict | None = None, timeout: float = 20):
        async with self.session.post(f"{self.url}/{method}", json=payload or {},
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            try:
                body = await resp.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                raise ZaloBotError(resp.status, f"HTTP {resp.status}", resp.status) from None
        if not isinstance(body, dict) or not body.get("ok"):
            body = body if isinstance(body, dict) else {}
            raise ZaloBotError(int(body.get("error_code") or resp.status), str(body.get("description", "")),
                               resp.status)
        return body.get("result")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def parse_update(update: dict) -> tuple[Incoming, str] | None:
    """Bot Platform update -> (Incoming, event id); None for what we ignore."""
    if isinstance(update.get("result"), dict) and "ok" in update:     # defensive: wrapped update
        update = update["result"]
    message = update.get("message") or {}
    sender = message.get("from") or {}
    chat = message.get("chat") or {}
    user_key = str(sender.get("id") or "")
    if not user_key or sender.get("is_bot") or str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
        return None                     # private chats only (like the Telegram adapter)
    event = str(update.get("event_name") or "")
    msg = Incoming(channel="zalo", user_key=user_key, chat_id=str(chat.get("id") or user_key),
                   display_name=str(sender.get("display_name") or "")[:200],
                   message_id=str(message.get("message_id") or ""))
    if event == "message.text.received" or (not event and message.get("text")):
        msg.text = str(message.get("text") or "")
    else:           # images keep their caption; stickers / unsupported arrive empty: the core answers politely
        msg.text = str(message.get("caption") or "")
    raw_id = msg.message_id or hashlib.sha256(json.dumps(update, sort_keys=True).encode()).hexdigest()[:40]
    return msg, f"bot:{raw_id}"


def classify(err: ZaloBotError) -> SendResult:
    """Bot Platform send errors (codes mostly undocumented: be conservative)."""
    code, text = err.code, f"zalo_bot {err.code}: {err.description}"[:300]
    if code == 429:
        return SendResult("retry", error=text)
    if code in (403, 404) or "block" in err.description.lower():
        return SendResult("blocked", error=text, deactivate=True)
    if code in (400, 401, 413):
        return SendResult("failed", error=text)
    return SendResult("retry", error=text)


class ZaloBotChannel(ZaloChannelBase):
    def __init__(self, runtime):
        super().__init__(runtime)
        s = self.settings
        self.client = ZaloBotClient(s.zalo_api_url, s.zalo_bot_token)
        self.webhook_url = s.zalo_webhook_url
        self.secret = s.zalo_webhook_secret
        self.path = urlparse(self.webhook_url).path or "/zalo/webhook"
        self._poller: asyncio.Task | None = None
        self._running = False

    @property
    def needs_http(self) -> bool:
        return bool(self.webhook_url)

    async def start(self, runtime) -> None:
        self._running = True
        self.start_housekeeping()
        if self.webhook_url:
            if not 8 <= len(self.secret) <= 256:
                raise ValueError("ZALO_WEBHOOK_SECRET must be 8-256 characters in webhook mode")
            await self.client.call("setWebhook", {"url": self.webhook_url, "secret_token": self.secret})
            log.info("zalo bot webhook set: %s", self.webhook_url)
            return
        try:
            await self.client.call("deleteWebhook")
        except (ZaloBotError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("zalo bot deleteWebhook: %s", exc)
        self._poller = asyncio.create_task(self.poll_forever())

    async def stop(self) -> None:
        self._running = False
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        await self.stop_tasks()
        await self.client.close()

    # --- polling ------------------------------------------------------------------------------
    async def poll_once(self) -> bool:
        """One getUpdates call; processes the update if any. False on an empty poll (408)."""
        try:
            update = await self.client.call("getUpdates", {"timeout": str(POLL_TIMEOUT)},
                                            timeout=POLL_TIMEOUT + 15)
        except ZaloBotError as exc:
            if exc.code == 408:
                return False
            raise
        parsed = parse_update(update) if isinstance(update, dict) else None
        if parsed:
            await self.process(*parsed)
        return True

    async def poll_forever(self) -> None:
        delay = 1.0
        while self._running:
            try:
                await self.poll_once()
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("zalo getUpdates failed (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    # --- webhook ------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self.on_webhook)

    async def on_webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("zalo bot webhook: wrong secret from %s", request.remote)
            return web.json_response({"ok": False}, status=401)
        try:
            update = json.loads(await request.read())
        except ValueError:
            return web.json_response({"ok": False}, status=400)
        parsed = parse_update(update) if isinstance(update, dict) else None
        if parsed:
            self.spawn(self.process(*parsed))
        return web.json_response({"ok": True})

    # --- sending ------------------------------------------------------------------------------
    async def send_text(self, chat_id: str, text: str) -> SendResult:
        try:
            result = await self.client.call("sendMessage", {"chat_id": chat_id, "text": text})
        except ZaloBotError as exc:
            return classify(exc)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return SendResult("retry", error=f"network: {type(exc).__name__}: {exc}"[:300])
        mid = result.get("message_id", "") if isinstance(result, dict) else ""
        return SendResult.ok(mid)
