"""Zalo Official Account (Open API v3) adapter.

Inbound: webhook events signed with X-ZEvent-Signature. Accepted signature variants (and only
these, see verify_signature): sha256_hex(app_id + raw_body + timestamp + OA_secret_key) where
app_id and timestamp are read from the JSON body and must match our app id; the header value may
carry the "mac=" prefix or not, hex in any case. Anything else answers 401 and is not processed.
Outbound: POST {ZALO_OA_API_URL}/v3.0/oa/message/cs with header access_token (channels.zalo_tokens).
Proactive messages (delivery path) are not attempted outside the 7-day interaction window or
while the OA quota is known to be exhausted: the sender reports outside_window / quota.
Files (channels.md §C7 "Sending a file on Zalo"): a PDF up to 5 MB is uploaded to
POST {ZALO_OA_API_URL}/v2.0/oa/upload/file (multipart field "file") for a token, then sent as a CS
message with attachment {"type": "file", "payload": {"token": …}}. Any other file, or an upload
the OA refuses, goes as the /tep download link instead (zalo_base).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import timedelta
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from channels.zalo_base import CHANNEL, ZaloChannelBase
from channels.zalo_tokens import OATokens, TokenError
from core.messages import InFile, Incoming
from delivery.outcome import SendResult
from storage.models import KeyValue, utcnow
from storage.sql import put_value

log = logging.getLogger("ocop.zalo.oa")
SIGNATURE_HEADER = "X-ZEvent-Signature"
WINDOW = timedelta(days=7)                 # CS messages only within 7 days of the last interaction
QUOTA_KEY = "zalo_oa:quota_until"
QUOTA_PAUSE = timedelta(hours=24)          # after -211 (OA out of quota) stop trying for a day
TOKEN_ERRORS = {-216, -220}
UNREACHABLE = {-213: "not following the OA", -244: "user restricted this message type",
               -227: "user banned or inactive"}
MAX_DOWNLOAD = 5 * 1024 * 1024            # documents a user sends (e.g. an officer's register)
FILE_LIMIT = 5 * 1024 * 1024              # what the OA accepts for upload (§C7: PDF ≤ 5 MB)
FILE_TYPES = {".pdf": "application/pdf"}


def uploadable(file) -> bool:
    """A file the OA upload API takes (§C7): a PDF of at most 5 MB."""
    name = (file.filename or "").lower()
    return any(name.endswith(ext) for ext in FILE_TYPES) and 0 < len(file.content or b"") <= FILE_LIMIT


def expected_signature(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    return hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret_key.encode()).hexdigest()


def verify_signature(header: str, raw_body: bytes, body: dict, app_id: str, secret_key: str) -> bool:
    """Chatwoot's production formula, with or without the 'mac=' prefix (constant-time compare)."""
    if not header or not secret_key or str(body.get("app_id", "")) != app_id:
        return False
    value = header.strip()
    if value[:4].lower() == "mac=":
        value = value[4:]
    want = expected_signature(app_id, raw_body, str(body.get("timestamp", "")), secret_key)
    return hmac.compare_digest(value.lower().encode(), want.encode())


def parse_event(event: dict) -> tuple[str, Incoming | None, str, str]:
    """(event name, Incoming or None, event id for de-duplication, URL of a sent document).

    Like on Telegram, only documents (user_send_file) are passed on as files; images, stickers,
    audio, video, links and locations reach the bot as their caption text (often empty: the core
    then says politely that it reads text only)."""
    name = str(event.get("event_name") or "")
    message = event.get("message") or {}
    if name in ("follow", "unfollow"):
        uid = str((event.get("follower") or {}).get("id") or (event.get("sender") or {}).get("id") or "")
        msg = Incoming(channel=CHANNEL, user_key=uid, chat_id=uid) if uid else None
        return name, msg, f"oa:{name}:{uid}:{event.get('timestamp', '')}", ""
    uid = str((event.get("sender") or {}).get("id") or "")
    if not name.startswith("user_send_") or not uid:
        return name, None, "", ""
    msg = Incoming(channel=CHANNEL, user_key=uid, chat_id=uid, message_id=str(message.get("msg_id") or ""),
                   text=str(message.get("text") or ""))
    url = ""
    if name == "user_send_file":
        payload = ((message.get("attachments") or [{}])[0] or {}).get("payload") or {}
        size = str(payload.get("size") or "0")
        msg.file = InFile(filename=str(payload.get("name") or "tep")[:200], size=int(size) if size.isdigit() else 0,
                          mime=str(payload.get("type") or ""))
        url = str(payload.get("url") or "")
    event_id = f"oa:{msg.message_id}" if msg.message_id else f"oa:{name}:{uid}:{event.get('timestamp', '')}"
    return name, msg, event_id, url


def classify(code: int, message: str) -> SendResult:
    err = f"zalo_oa {code}: {message}"[:300]
    if code == -230:
        return SendResult("outside_window", error=err)
    if code in UNREACHABLE:
        return SendResult("unreachable", error=f"zalo_oa {code}: {UNREACHABLE[code]}", deactivate=True)
    if code in (-211, -218):
        return SendResult("quota", error=err)
    if code == -32 or code in TOKEN_ERRORS:
        return SendResult("retry", error=err)          # rate limit / token still bad: back off
    return SendResult("failed", error=err)


class ZaloOAChannel(ZaloChannelBase):
    needs_http = True

    def __init__(self, runtime):
        super().__init__(runtime)
        s = self.settings
        self.path = urlparse(s.zalo_webhook_url).path or "/zalo/webhook"
        self._http: aiohttp.ClientSession | None = None
        self.tokens = OATokens(self.sessionmaker, s, http=lambda: self.http)

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def start(self, runtime) -> None:
        self.start_housekeeping()
        try:
            await self.tokens.access_token()
        except TokenError as exc:          # the bot still answers nothing until fixed: say so loudly
            log.error("Zalo OA token: %s", exc)

    async def stop(self) -> None:
        await self.stop_tasks()
        if self._http is not None:
            await self._http.close()

    # --- webhook ------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self.on_webhook)

    async def on_webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        s = self.settings
        if not isinstance(body, dict) or not verify_signature(request.headers.get(SIGNATURE_HEADER, ""), raw, body,
                                                              s.zalo_oa_app_id, s.zalo_oa_secret_key):
            log.warning("zalo oa webhook: bad signature from %s", request.remote)
            return web.json_response({"error": 401, "message": "invalid signature"}, status=401)
        if body.get("event_name") == "user_received_message":     # a ZNS delivery receipt
            from handlers.reach.web import mark_delivered
            self.spawn(mark_delivered(self.sessionmaker, body))
            return web.json_response({"error": 0, "message": "ok"})
        name, msg, event_id, url = parse_event(body)
        if msg is not None:
            self.spawn(self.on_event(name, msg, event_id, url))
        return web.json_response({"error": 0, "message": "ok"})

    async def on_event(self, name: str, msg: Incoming, event_id: str, url: str = "") -> None:
        if msg.file is not None and url.startswith(("https://", "http://")) and msg.file.size <= MAX_DOWNLOAD:
            msg.file.data = await self._download(url)
        if name == "unfollow":
            if await self.claim_event(event_id):
                await self.deactivate(msg.user_key, "unfollowed")
            return
        if name == "follow":
            msg.text = "/start"            # greet and create/refresh the identity
        await self.process(msg, event_id)

    async def _download(self, url: str) -> bytes | None:
        """A document the user sent (None when unavailable or over MAX_DOWNLOAD)."""
        try:
            async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=30)) as resp:
                if resp.status != 200:
                    return None
                data = await resp.content.read(MAX_DOWNLOAD + 1)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return None
        return data if len(data) <= MAX_DOWNLOAD else None

    # --- sending ------------------------------------------------------------------------------
    async def precheck(self, chat_id: str) -> SendResult | None:
        now = utcnow()
        async with self.sessionmaker() as s:
            marker = await s.get(KeyValue, QUOTA_KEY)
            ident = await self._identity(s, chat_id)
        if marker is not None and marker.value > now.isoformat():
            return SendResult("quota", error=f"OA quota exhausted until {marker.value}")
        last = ident.last_interaction_at if ident is not None else None
        if last is not None and now - last > WINDOW:
            return SendResult("outside_window", error=f"last interaction {last:%Y-%m-%d}")
        return None

    async def _post_cs(self, token: str, chat_id: str, message: dict) -> dict:
        async with self.http.post(f"{self.settings.zalo_oa_api_url}/v3.0/oa/message/cs",
                                  headers={"access_token": token},
                                  json={"recipient": {"user_id": chat_id}, "message": message},
                                  timeout=aiohttp.ClientTimeout(total=20)) as resp:
            data = await resp.json(content_type=None)
        return data if isinstance(data, dict) else {"error": -1, "message": f"HTTP {resp.status}"}

    async def _upload(self, token: str, file) -> dict:
        form = aiohttp.FormData()
        ext = next(e for e in FILE_TYPES if file.filename.lower().endswith(e))
        form.add_field("file", file.content, filename=file.filename, content_type=FILE_TYPES[ext])
        async with self.http.post(f"{self.settings.zalo_oa_api_url}/v2.0/oa/upload/file",
                                  headers={"access_token": token}, data=form,
                                  timeout=aiohttp.ClientTimeout(total=60)) as resp:
            data = await resp.json(content_type=None)
        return data if isinstance(data, dict) else {"error": -1, "message": f"HTTP {resp.status}"}

    async def _call(self, fn, *args) -> dict:
        """An OA API call with the access token; on a token error refresh once and retry."""
        token = await self.tokens.access_token()
        data = await fn(token, *args)
        if int(data.get("error") or 0) in TOKEN_ERRORS:
            token = await self.tokens.refresh(bad=token)
            data = await fn(token, *args)
        return data

    async def _send(self, chat_id: str, message: dict) -> SendResult:
        try:
            data = await self._call(self._post_cs, chat_id, message)
            code = int(data.get("error") or 0)
        except TokenError as exc:
            return SendResult("retry", error=str(exc)[:300])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            return SendResult("retry", error=f"network: {type(exc).__name__}: {exc}"[:300])
        if code == 0:
            return SendResult.ok(str((data.get("data") or {}).get("message_id") or ""))
        if code == -211:
            await self._mark_quota_exhausted()
        return classify(code, str(data.get("message") or ""))

    async def send_text(self, chat_id: str, text: str) -> SendResult:
        return await self._send(chat_id, {"text": text})

    async def send_file(self, chat_id: str, file) -> SendResult | None:
        """Upload then send the file itself; None (→ the download link) when it is not a PDF ≤ 5 MB or
        the upload does not give a token."""
        if not uploadable(file):
            return None
        try:
            data = await self._call(self._upload, file)
        except (TokenError, aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            log.warning("zalo oa upload of %s failed: %s", file.filename, exc)
            return None
        ftoken = str((data.get("data") or {}).get("token") or "") if not data.get("error") else ""
        if not ftoken:
            log.warning("zalo oa upload of %s refused: %s %s", file.filename, data.get("error"), data.get("message"))
            return None
        return await self._send(chat_id, {"attachment": {"type": "file", "payload": {"token": ftoken}}})

    async def _mark_quota_exhausted(self) -> None:
        until = (utcnow() + QUOTA_PAUSE).isoformat()
        async with self.sessionmaker() as s, s.begin():
            await put_value(s, QUOTA_KEY, until)
