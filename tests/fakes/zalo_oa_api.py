"""A fake Zalo OA Open API v3 + OAuth v4 server (real HTTP) and a signing webhook pusher.

- POST /v3.0/oa/message/{cs,transaction,promotion} needs header access_token: unknown token
  -> -216, expired token -> -220; texts over 2,000 characters -> -201; per-user and one-shot
  error injection (-230, -213, -32, …).
- POST /v2.0/oa/upload/file (multipart field "file", header access_token) takes a PDF of at most
  5 MB (channels.md §C7) and answers data.token; anything else is refused: not a PDF (by name,
  declared type and the %PDF magic) -> -201, over 5 MB -> -210, no file -> -201. A CS message
  whose message.attachment is {"type": "file", "payload": {"token"}} delivers that file (an unknown
  token -> -201); it is recorded in `sent` with "file"/"content" and text "".
- POST /v4/oa/access_token (form, header secret_key) rotates single-use refresh tokens: a
  reused refresh token is refused.
- push(event) signs like Zalo: "mac=" + sha256(app_id + body + timestamp + OA secret key).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import time

import aiohttp
from aiohttp import web

TEXT_LIMIT = 2000
FILE_LIMIT = 5 * 1024 * 1024
_ids = itertools.count(1)


def text_event(app_id: str, user: str, text: str, *, msg_id: str | None = None) -> dict:
    return {"app_id": app_id, "user_id_by_app": f"a{user}", "event_name": "user_send_text",
            "sender": {"id": user}, "recipient": {"id": "oa1"},
            "message": {"msg_id": msg_id or f"msg{next(_ids)}", "text": text},
            "timestamp": str(int(time.time() * 1000))}


def file_event(app_id: str, user: str, url: str, name: str, size: int) -> dict:
    ev = text_event(app_id, user, "")
    ev["event_name"] = "user_send_file"
    ev["message"] = {"msg_id": f"msg{next(_ids)}", "attachments": [
        {"type": "file", "payload": {"url": url, "name": name, "size": str(size), "type": "csv"}}]}
    return ev


def image_event(app_id: str, user: str, caption: str = "") -> dict:
    ev = text_event(app_id, user, caption)
    ev["event_name"] = "user_send_image"
    ev["message"]["attachments"] = [{"type": "image", "payload": {"url": "https://example.vn/a.jpg"}}]
    return ev


def follow_event(app_id: str, user: str, name: str = "follow") -> dict:
    return {"app_id": app_id, "oa_id": "oa1", "event_name": name, "follower": {"id": user},
            "source": "testing", "timestamp": str(int(time.time() * 1000) + next(_ids))}


def sign(app_id: str, raw: bytes, timestamp: str, secret_key: str) -> str:
    return "mac=" + hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret_key.encode()).hexdigest()


class FakeZaloOAAPI:
    def __init__(self, app_id: str = "app1", app_secret: str = "appsecret", secret_key: str = "oasecret"):
        self.app_id, self.app_secret, self.secret_key = app_id, app_secret, secret_key
        self.access: dict[str, bool] = {}          # token -> still valid
        self.refresh_tokens: dict[str, bool] = {}  # token -> unused
        self.files: dict[str, bytes] = {}         # documents users "sent", served at /files/<name>
        self.codes: dict[str, str] = {}            # authorization code -> PKCE challenge
        self.refresh_calls: list[str] = []         # refresh tokens presented, in order
        self.refused_refreshes = 0
        self.refresh_delay = 0.0
        self.sent: list[dict] = []                 # {"user_id", "text", "kind"} (+ "file", "content")
        self.uploads: dict[str, tuple[str, bytes]] = {}   # upload token -> (file name, bytes)
        self.upload_attempts = 0
        self._upload_errors: list[tuple[int, str]] = []
        self.send_attempts = 0
        self.user_errors: dict[str, tuple[int, str]] = {}
        self.expire_after: int | None = None       # expire every access token after N more sends
        self._next_errors: list[tuple[int, str]] = []
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- tokens ----------------------------------------------------------------------------------
    def issue_pair(self) -> tuple[str, str]:
        n = next(self._seq)
        access, refresh = f"at{n}", f"rt{n}"
        self.access[access] = True
        self.refresh_tokens[refresh] = True
        return access, refresh

    def expire_access(self, token: str | None = None) -> None:
        """Expire one access token (or all of them): further sends answer -220."""
        for t in ([token] if token else list(self.access)):
            self.access[t] = False

    def authorize(self, code_challenge: str) -> str:
        """What an OA admin's approval does: a one-time code bound to the PKCE challenge."""
        code = f"code{next(self._seq)}"
        self.codes[code] = code_challenge
        return code

    def _authorization_code(self, form) -> web.Response:
        challenge = self.codes.pop(str(form.get("code") or ""), None)
        verifier = str(form.get("code_verifier") or "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge is None or digest != challenge:
            return web.json_response({"error": -14019, "error_name": "Invalid code or code_verifier"})
        access, refresh = self.issue_pair()
        return web.json_response({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})

    # --- test controls ---------------------------------------------------------------------------
    def fail_user(self, user_id: str, code: int, message: str = "injected") -> None:
        self.user_errors[user_id] = (code, message)

    def fail_next(self, code: int, message: str = "injected", times: int = 1) -> None:
        self._next_errors.extend([(code, message)] * times)

    def fail_upload_next(self, code: int, message: str = "injected", times: int = 1) -> None:
        self._upload_errors.extend([(code, message)] * times)

    def texts_to(self, user_id: str) -> list[str]:
        return [m["text"] for m in self.sent if m["user_id"] == user_id and "file" not in m]

    def files_to(self, user_id: str) -> list[tuple[str, bytes]]:
        return [(m["file"], m["content"]) for m in self.sent if m["user_id"] == user_id and "file" in m]

    async def push(self, url: str, event: dict, *, secret_key: str | None = None, prefix: str = "mac=",
                   signature: str | None = None, raw: bytes | None = None) -> int:
        """POST a signed webhook event; returns the HTTP status."""
        raw = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode()
        if signature is None:
            signature = sign(str(event.get("app_id", "")), raw, str(event.get("timestamp", "")),
                             self.secret_key if secret_key is None else secret_key)
            signature = prefix + signature[4:]
        async with aiohttp.ClientSession() as s:
            async with s.post(url, data=raw, headers={"X-ZEvent-Signature": signature,
                                                      "Content-Type": "application/json"}) as resp:
                await resp.read()
                return resp.status

    # --- server ----------------------------------------------------------------------------------
    async def start(self) -> "FakeZaloOAAPI":
        app = web.Application(client_max_size=FILE_LIMIT * 2)
        app.router.add_post("/v3.0/oa/message/{kind}", self._send)
        app.router.add_post("/v4/oa/access_token", self._token)
        app.router.add_post("/v2.0/oa/upload/file", self._upload)
        app.router.add_get("/v2.0/oa/getoa", self._getoa)
        app.router.add_get("/files/{name}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    @staticmethod
    def _err(code: int, message: str) -> web.Response:
        return web.json_response({"error": code, "message": message})

    def _token_error(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("access_token", "")
        if token not in self.access:
            return self._err(-216, "Access token is invalid")
        if not self.access[token]:
            return self._err(-220, "Access token has expired or has been removed")
        return None

    async def _upload(self, request: web.Request) -> web.Response:
        self.upload_attempts += 1
        if (bad := self._token_error(request)) is not None:
            return bad
        if not request.content_type.startswith("multipart/"):
            return self._err(-201, "Parameters are invalid")
        part, reader = None, await request.multipart()
        while (p := await reader.next()) is not None:
            if p.name == "file":
                part = p
                break
        if part is None or not part.filename:
            return self._err(-201, "Parameters are invalid: file is required")
        data = await part.read()
        if self._upload_errors:
            return self._err(*self._upload_errors.pop(0))
        if len(data) > FILE_LIMIT:
            return self._err(-210, "File size exceeds the limit (5 MB)")
        kind = part.headers.get("Content-Type", "")
        if not part.filename.lower().endswith(".pdf") or kind != "application/pdf" or not data.startswith(b"%PDF"):
            return self._err(-201, "File type is not supported")
        token = f"ft{next(self._seq)}"
        self.uploads[token] = (part.filename, data)
        return web.json_response({"error": 0, "message": "Success", "data": {"token": token}})

    async def _send(self, request: web.Request) -> web.Response:
        self.send_attempts += 1
        if (bad := self._token_error(request)) is not None:
            return bad
        body = await request.json()
        user_id = str((body.get("recipient") or {}).get("user_id") or "")
        message = body.get("message") or {}
        text = str(message.get("text") or "")
        attachment = message.get("attachment") or {}
        upload = None
        if attachment:
            if attachment.get("type") != "file" or text:
                return self._err(-201, "Parameters are invalid")
            upload = self.uploads.get(str((attachment.get("payload") or {}).get("token") or ""))
            if upload is None:
                return self._err(-201, "Parameters are invalid: unknown file token")
        if not user_id or (not text and upload is None) or len(text) > TEXT_LIMIT:
            return self._err(-201, "Parameters are invalid")
        if self._next_errors:
            return self._err(*self._next_errors.pop(0))
        if user_id in self.user_errors:
            return self._err(*self.user_errors[user_id])
        entry = {"user_id": user_id, "text": text, "kind": request.match_info["kind"]}
        if upload is not None:
            entry["file"], entry["content"] = upload
        self.sent.append(entry)
        if self.expire_after is not None:
            self.expire_after -= 1
            if self.expire_after <= 0:
                self.expire_after = None
                self.expire_access()
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"message_id": f"oam{len(self.sent)}", "user_id": user_id}})

    async def _getoa(self, request: web.Request) -> web.Response:
        """OA profile: what `bot.py doctor` uses to check the access token."""
        token = request.headers.get("access_token", "")
        if token not in self.access:
            return self._err(-216, "Access token is invalid")
        if not self.access[token]:
            return self._err(-220, "Access token has expired or has been removed")
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"oa_id": "oa1", "name": "Sở Nông nghiệp (thử nghiệm)", "is_verified": True}})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.headers.get("secret_key") != self.app_secret or form.get("app_id") != self.app_id:
            return web.json_response({"error": -14002, "error_name": "Invalid app_id or secret_key"})
        if form.get("grant_type") == "authorization_code":
            return self._authorization_code(form)
        if form.get("grant_type") != "refresh_token":
            return web.json_response({"error": -14001, "error_name": "Invalid grant_type"})
        rt = str(form.get("refresh_token") or "")
        self.refresh_calls.append(rt)
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        if not self.refresh_tokens.get(rt):
            self.refused_refreshes += 1
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token",
                                      "error_description": "refresh token is invalid or already used"})
        self.refresh_tokens[rt] = False            # single use
        access, refresh = self.issue_pair()
        return web.json_response({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})
