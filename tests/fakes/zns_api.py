"""A fake ZNS (Zalo Notification Service) API speaking real HTTP (channels.md §C7).

- POST /message/template: header access_token must be one the fake OA OAuth server issued (else
  -124) and appsecret_proof = HMAC-SHA256(access_token, key=app secret) (else -1241); phone in the
  84… form (else -108); the template must exist and be ENABLE (else -131); every required parameter
  present (else -1122) and within its max length (else -1121); per-phone injected codes (every
  §C7 code); a daily quota per local day (-144); a night clock 22:00–06:00 local (-133), both
  read from core.clock.
- GET /template/info/v2?template_id=: status and parameter list.
- push_receipt(url, msg): a signed `user_received_message` to the bot's webhook.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
from datetime import timedelta, timezone

import aiohttp
from aiohttp import web

from core import clock
from tests.fakes.zalo_oa_api import sign

VN = timezone(timedelta(hours=7))


class FakeZnsAPI:
    def __init__(self, tokens, app_id: str = "app1", app_secret: str = "appsecret", secret_key: str = "oasecret"):
        self.tokens = tokens                     # FakeZaloOAAPI: .access (token -> valid)
        self.app_id, self.app_secret, self.secret_key = app_id, app_secret, secret_key
        self.templates: dict[str, dict] = {}     # id -> {"status", "params": {name: (required, max)}}
        self.phone_errors: dict[str, int] = {}   # 84… -> code
        self.daily_quota: int | None = None
        self.used: dict[str, int] = {}           # local date -> sends
        self.sent: list[dict] = []               # accepted messages
        self.attempts: list[dict] = []           # every request body with the code answered
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def template(self, template_id: str, params: dict[str, int], status: str = "ENABLE") -> None:
        """params: name -> max length (all required)."""
        self.templates[template_id] = {"status": status, "params": params}

    def fail_phone(self, phone84: str, code: int) -> None:
        self.phone_errors[phone84] = code

    def sent_to(self, phone84: str) -> list[dict]:
        return [m for m in self.sent if m["phone"] == phone84]

    # --- server --------------------------------------------------------------------------------
    async def start(self) -> "FakeZnsAPI":
        app = web.Application()
        app.router.add_post("/message/template", self._send)
        app.router.add_get("/template/info/v2", self._info)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _auth(self, request) -> int:
        token = request.headers.get("access_token", "")
        if not self.tokens.access.get(token):
            return -124
        proof = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("appsecret_proof", ""), proof):
            return -1241
        return 0

    @staticmethod
    def _err(code: int, message: str = "injected") -> web.Response:
        return web.json_response({"error": code, "message": message})

    async def _info(self, request: web.Request) -> web.Response:
        code = self._auth(request)
        if code:
            return self._err(code, "auth")
        t = self.templates.get(request.query.get("template_id", ""))
        if t is None:
            return self._err(-131, "template not found")
        return web.json_response({"error": 0, "message": "Success", "data": {
            "templateId": request.query["template_id"], "templateName": "OCOP", "status": t["status"],
            "listParams": [{"name": n, "require": True, "type": "STRING", "maxLength": m}
                           for n, m in t["params"].items()]}})

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        code = self._check(request, body)
        self.attempts.append({**body, "code": code})
        if code:
            return self._err(code)
        local = clock.now().astimezone(VN).date().isoformat()
        self.used[local] = self.used.get(local, 0) + 1
        msg_id = f"zns{next(self._ids)}"
        self.sent.append({**body, "msg_id": msg_id})
        return web.json_response({"error": 0, "message": "Success", "data": {
            "msg_id": msg_id, "sent_time": str(int(clock.now().timestamp() * 1000)), "sending_mode": "1",
            "quota": {"dailyQuota": str(self.daily_quota or 0),
                      "remainingQuota": str((self.daily_quota or 0) - self.used[local])}}})

    def _check(self, request, body: dict) -> int:
        code = self._auth(request)
        if code:
            return code
        phone = str(body.get("phone") or "")
        if not re.fullmatch(r"84\d{9,10}", phone):
            return -108
        t = self.templates.get(str(body.get("template_id") or ""))
        if t is None or t["status"] != "ENABLE":
            return -131
        data = body.get("template_data") or {}
        for name, max_len in t["params"].items():
            if name not in data or str(data[name]) == "":
                return -1122
            if len(str(data[name])) > max_len:
                return -1121
        local = clock.now().astimezone(VN)
        if local.hour >= 22 or local.hour < 6:
            return -133
        if phone in self.phone_errors:
            return self.phone_errors[phone]
        if self.daily_quota is not None and self.used.get(local.date().isoformat(), 0) >= self.daily_quota:
            return -144
        return 0

    async def push_receipt(self, url: str, msg: dict, user_id: str = "u-zns") -> int:
        event = {"app_id": self.app_id, "event_name": "user_received_message", "sender": {"id": "oa1"},
                 "recipient": {"id": user_id},
                 "message": {"msg_id": msg["msg_id"], "tracking_id": msg.get("tracking_id", ""),
                             "delivery_time": str(int(clock.now().timestamp() * 1000))},
                 "timestamp": str(int(clock.now().timestamp() * 1000))}
        raw = json.dumps(event).encode()
        signature = sign(self.app_id, raw, event["timestamp"], self.secret_key)
        async with aiohttp.ClientSession() as s:
            async with s.post(url, data=raw, headers={"X-ZEvent-Signature": signature,
                                                      "Content-Type": "application/json"}) as resp:
                await resp.read()
                return resp.status
