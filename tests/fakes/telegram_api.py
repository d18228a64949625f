"""A fake Telegram Bot API server (aiohttp, real HTTP on 127.0.0.1) for end-to-end tests and benches.

    async with FakeTelegram() as tg:                    # random port; tg.url = "http://127.0.0.1:N"
        settings = make_settings(url, telegram_token=tg.token, telegram_api_url=tg.url)
        tg.push_text(42, "xin chào")                    # goes into the getUpdates queue
        await tg.wait_sent(1, chat_id=42)               # messages the bot sent, in order
        tg.block(42)                                    # next sends answer 403 blocked

It speaks the Bot API envelope ({"ok":true,"result":…} / {"ok":false,"error_code","description",
"parameters"} with the same HTTP status), accepts query strings, form bodies (PTB JSON-encodes nested
fields), JSON and multipart, and refuses what Telegram refuses (see telegram_methods.py), including
its flood limits: by default more than 30 sends a second overall or 3 a second to one chat get
429 "Too Many Requests: retry after N" with parameters.retry_after (TELEGRAM_OVERALL / _PER_CHAT).
Subprocess use: `python -m tests.fakes.telegram_api --port N` plus the /_fake/* control routes.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import threading
from collections import Counter, deque
from typing import Any

from aiohttp import web

from tests.fakes.telegram_checks import ApiError, RateRule, Sent  # noqa: F401 (Sent re-exported)
from tests.fakes.telegram_methods import MethodsMixin
from tests.fakes.telegram_script import ScriptMixin
from tests.fakes.telegram_updates import UpdateFactory

# Telegram's flood limits as the fake enforces them by default (429 + parameters.retry_after, and the
# refusal is counted in `violations`): more than 30 sends a second per bot token, or more than 3 a
# second to one chat. Pass None to switch a rule off, a (count, window) pair to change it.
TELEGRAM_OVERALL = (30, 1.0)
TELEGRAM_PER_CHAT = (3, 1.0)

class FakeTelegram(MethodsMixin, ScriptMixin):
    def __init__(self, token: str = "123456:TEST-fake-token", *, bot_username: str = "ocop_test_bot",
                 overall_rate: tuple[int, float] | None = TELEGRAM_OVERALL,
                 per_chat_rate: tuple[int, float] | None = TELEGRAM_PER_CHAT,
                 seed: int = 0, auto_webhook: bool = True):
        import random
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.lock = threading.RLock()
        self.random = random.Random(seed)
        self.factory = UpdateFactory()
        self.auto_webhook = auto_webhook
        self.overall = RateRule(*overall_rate) if overall_rate else None
        self.per_chat = RateRule(*per_chat_rate) if per_chat_rate else None
        self.host, self.port = "127.0.0.1", 0
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._bg: set[asyncio.Task] = set()
        self._poll_gen = 0                          # survives reset(): a running long poll stays valid
        self.reset()

    # --- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything recorded and scripted (keeps the port and rate settings)."""
        with self.lock:
            self.updates: list[dict] = []
            self.sent: list[Sent] = []
            self.edits: list[Sent] = []
            self.calls: list[tuple[str, int | None, int, str]] = []    # method, chat, status, description
            self.errors: list[tuple[str, int | None, int, str]] = []   # the refused calls among them
            self.call_counts: Counter = Counter()
            self.violations: list[tuple[int, str, float]] = []          # chat, rule, time
            self.chat_actions: list[tuple[int, str]] = []
            self.callback_answers: list[dict] = []
            self.open_callbacks: set[str] = set()
            self.commands: dict[tuple[str, str], list[dict]] = {}
            self.webhook: dict[str, Any] = {"url": ""}
            self.webhook_error: dict[str, Any] = {}
            self.clock_offset = 0.0                                     # seconds added to the Date header
            self.webhook_deliveries: list[tuple[int, int]] = []         # update_id, HTTP status
            self.messages: dict[tuple[int, int], dict] = {}
            self.files: dict[str, tuple[str, bytes]] = {}
            self.chat_state: dict[int, tuple] = {}
            self.faults: dict[int | None, deque] = {}
            self.poll_faults: deque = deque()
            self.flood_probability, self.flood_retry_after = 0.0, 1
            self.error_probability = 0.0
            self._next_message_id = 100_000
            if self.overall:
                self.overall.clear()
            if self.per_chat:
                self.per_chat.clear()

    @property
    def url(self) -> str:
        """The Bot API root to put in TELEGRAM_API_URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def violation_count(self) -> int:
        return len(self.violations)

    # --- HTTP plumbing --------------------------------------------------------------------
    def _notify(self) -> None:
        self._call_in_loop(self._wake)

    def _call_in_loop(self, fn, *args) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def _wake(self) -> None:
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    def _spawn_webhook(self, update: dict, hook: dict) -> None:
        async def deliver():
            try:
                status = await self.post_webhook(hook["url"], update, hook.get("secret_token") or None)
            except Exception:
                status = 0
            with self.lock:
                self.webhook_deliveries.append((update["update_id"], status))
        task = asyncio.get_running_loop().create_task(deliver())
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    async def _read_params(self, request: web.Request) -> tuple[dict, dict]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes, str]] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: request body must be a JSON object")
                params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = (value.filename or key, value.file.read(), value.content_type or "")
                    else:
                        params[key] = value
        return params, files

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        handler = self.METHODS.get(method)
        if handler is None:
            return _error(ApiError(404, "Not Found: method not found"))
        chat = None
        try:
            params, files = await self._read_params(request)
            chat = _maybe_int(params.get("chat_id"))
            result = getattr(self, handler)(params, files)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            with self.lock:
                self.calls.append((method, chat, exc.status, exc.description))
                self.errors.append(self.calls[-1])
                self.call_counts[method] += 1
            return _error(exc)
        with self.lock:
            self.calls.append((method, chat, 200, ""))
            self.call_counts[method] += 1
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        with self.lock:
            for stored_path, content in self.files.values():
                if stored_path == path:
                    return web.Response(body=content, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")

    @web.middleware
    async def _date_header(self, request, handler):
        """Date header from core.clock (the test's 'real' time), shifted by clock_offset."""
        from email.utils import format_datetime
        from core import clock
        resp = await handler(request)
        if isinstance(resp, web.Response):
            stamp = clock.now().timestamp() + self.clock_offset
            from datetime import datetime, timezone
            resp.headers["Date"] = format_datetime(datetime.fromtimestamp(stamp, timezone.utc), usegmt=True)
        return resp

    def make_app(self) -> web.Application:
        from tests.fakes.telegram_control import add_control_routes
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._date_header])
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        add_control_routes(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> "FakeTelegram":
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._closing = False
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host, self.port = host, self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        for task in list(self._bg):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeTelegram":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def start_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> "FakeTelegram":
        """Serve from a daemon thread with its own event loop (push_* are thread-safe)."""
        ready = threading.Event()

        def run():
            loop = asyncio.new_event_loop()
            loop.run_until_complete(self.start(host, port))
            ready.set()
            loop.run_forever()
        threading.Thread(target=run, name="fake-telegram", daemon=True).start()
        ready.wait(10)
        return self


def _maybe_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error(exc: ApiError) -> web.Response:
    body = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.status)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="123456:TEST-fake-token")
    ap.add_argument("--rate", type=int, default=TELEGRAM_OVERALL[0],
                    help="overall sends per second enforced (0 = off; default Telegram's 30)")
    ap.add_argument("--per-chat", type=int, default=TELEGRAM_PER_CHAT[0],
                    help="sends per chat per second enforced (0 = off; default 3)")
    args = ap.parse_args(argv)
    fake = FakeTelegram(args.token, overall_rate=(args.rate, 1.0) if args.rate else None,
                        per_chat_rate=(args.per_chat, 1.0) if args.per_chat else None)

    async def serve():
        await fake.start(args.host, args.port)
        print(json.dumps({"ready": True, "url": fake.url, "token": fake.token}), flush=True)
        await asyncio.Event().wait()
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
