"""Telegram channel: a real PTB Application (polling or webhook) that only converts and renders.

Every Update becomes a core.messages.Incoming (channel "telegram", user_key = Telegram user id,
chat_id = chat id), goes through runtime.core.handle, and the replies are rendered by
channels.telegram_render. Proactive messages use channels.telegram_sender via the delivery worker.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets
import sys
import time
from collections import defaultdict
from urllib.parse import urlparse

from aiohttp import web
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError
from telegram.ext import (Application, BaseUpdateProcessor, ContextTypes, Defaults, ExtBot, TypeHandler,
                          filters)

from channels.poll_lease import PollLease
from channels.telegram_http import AiohttpRequest
from channels.telegram_limiter import MAX_RETRIES, TelegramLimiter
from channels.telegram_render import send_reply
from channels.telegram_sender import TelegramSender
from core.messages import InFile, Incoming
from core.templates import render
from delivery.budget import budget_key, make_budget

log = logging.getLogger("ocop.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_DOWNLOAD = 10 * 1024 * 1024
ALLOWED_UPDATES = ["message", "callback_query"]
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; updates of one chat run in arrival order."""

    def __init__(self, max_concurrent_updates: int = 64):
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, asyncio.Lock] = {}
        self._users: dict[object, int] = defaultdict(int)

    async def do_process_update(self, update, coroutine) -> None:
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._users[chat] += 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[chat] -= 1
            if not self._users[chat]:
                del self._users[chat], self._locks[chat]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class _DropPtbParseDump(logging.Filter):
    """PTB logs every update batch it cannot parse at CRITICAL, with the raw data (personal data) and
    a traceback; PollingBot logs one line per skipped update instead."""
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Error while parsing updates")


logging.getLogger("telegram.ext.ExtBot").addFilter(_DropPtbParseDump())


class PollingBot(ExtBot):
    """An ExtBot whose getUpdates survives an update it cannot parse (say, a `poll` update in a shape
    this PTB does not know): that update is logged in one line and replaced by an empty Update with
    its update_id, so the offset moves past it instead of fetching the same batch forever."""

    _raw_updates: list = []

    async def _post(self, endpoint: str, data=None, **kw):
        result = await super()._post(endpoint, data, **kw)
        if endpoint == "getUpdates":
            self._raw_updates = result if isinstance(result, list) else []
        return result

    async def get_updates(self, *args, **kwargs) -> tuple[Update, ...]:
        try:
            return await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise
        except Exception:
            return tuple(self._parse_one(raw) for raw in self._raw_updates if _update_id(raw) is not None)

    def _parse_one(self, raw: dict) -> Update:
        try:
            return Update.de_json(raw, self)
        except Exception as exc:
            kinds = ",".join(k for k in raw if k != "update_id")
            log.warning("skipped update %s that could not be parsed (%s: %s; fields %s)",
                        raw["update_id"], type(exc).__name__, str(exc)[:120], kinds[:80])
            return Update(update_id=raw["update_id"])


def _update_id(raw) -> int | None:
    try:
        return int(raw["update_id"])
    except (TypeError, KeyError, ValueError):
        return None


def _addressed_elsewhere(text: str, bot_username: str) -> bool:
    """'/start@otherbot …': a command meant for another bot."""
    head = text.split(maxsplit=1)[0] if text.startswith("/") else ""
    _, at, target = head.partition("@")
    return bool(at) and target.lower() != (bot_username or "").lower()


async def to_incoming(update: Update, bot) -> Incoming | None:
    """Update -> Incoming; None for what the bot ignores (channel posts, groups, edits, service
    messages such as a pinned message, commands addressed to another bot)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return None
    msg = Incoming(channel="telegram", user_key=str(user.id), chat_id=str(chat.id),
                   display_name=user.full_name or "", event_id=str(update.update_id))
    if update.callback_query is not None:
        q = update.callback_query
        msg.callback = q.data or ""
        msg.raw_message_id = str(q.message.message_id) if q.message else ""
        return msg
    m = update.message
    if m is None or filters.StatusUpdate.ALL.check_update(update):
        return None
    msg.message_id = str(m.message_id)
    msg.text = m.text or m.caption or ""
    if _addressed_elsewhere(msg.text, bot.username):
        return None
    if m.contact is not None and m.contact.user_id == user.id:   # only the sender's own number
        msg.contact_phone = m.contact.phone_number or ""
    elif m.contact is not None:
        msg.contact_not_own = True
    if m.document is not None:
        d = m.document
        msg.file = InFile(d.file_name or "tep", d.file_size or 0, d.mime_type or "")
        if d.file_size is not None and d.file_size <= MAX_DOWNLOAD:
            try:
                tg_file = await bot.get_file(d.file_id)
                msg.file.data = bytes(await tg_file.download_as_bytearray())
            except TelegramError:          # the handler sees a file without data and says so politely
                log.warning("could not download file of update %s", update.update_id, exc_info=True)
    return msg


class TelegramChannel:
    name = "telegram"

    def __init__(self, runtime, *, poll_timeout: float = 30.0, concurrency: int = 64):
        self.runtime = runtime
        self.settings = runtime.settings
        self.poll_timeout = poll_timeout
        self.concurrency = concurrency
        self.app: Application | None = None
        self.sender = TelegramSender(lambda: self.app.bot if self.app else None)
        self.webhook_secret = self.settings.webhook_secret or ""
        self.webhook_path = urlparse(self.settings.webhook_url).path or "/telegram"
        self._conflict_warned = False
        self.lease: PollLease | None = None

    @property
    def needs_http(self) -> bool:
        return self.settings.webhook_mode

    def build_limiter(self) -> TelegramLimiter:
        """Replies, the apology and the worker's messages share the token's budget (see delivery.budget)."""
        engine = self.runtime.core.sessionmaker.kw.get("bind")
        return TelegramLimiter(make_budget(engine, budget_key("telegram", self.settings.telegram_token),
                                           self.settings.send_rate, self.settings.reply_reserve))

    def build_application(self) -> Application:
        api = self.settings.telegram_api_url.rstrip("/")
        bot = PollingBot(self.settings.telegram_token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot",
                         defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=self.settings.tz),
                         request=AiohttpRequest(connection_pool_size=max(8, self.concurrency)),
                         get_updates_request=AiohttpRequest(connection_pool_size=1,
                                                            read_timeout=self.poll_timeout + 10),
                         rate_limiter=self.build_limiter())
        builder = Application.builder().bot(bot).concurrent_updates(ChatOrderedProcessor(self.concurrency))
        if self.settings.webhook_mode:
            builder = builder.updater(None)
        app = builder.build()
        app.add_handler(TypeHandler(Update, self.on_update))
        app.add_error_handler(self.on_error)
        return app

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self, runtime) -> None:
        self.app = self.build_application()
        await self.app.initialize()
        await self.register_commands()
        await self.app.start()
        if self.settings.webhook_mode:
            if not self.webhook_secret:
                self.webhook_secret = secrets.token_urlsafe(32)
                log.warning("WEBHOOK_SECRET is not set: using a random secret for this run")
            runtime.web_app.on_startup.append(self._set_webhook)
        else:
            self.lease = PollLease(self.runtime.core.engine, self.settings.telegram_token)
            await self.lease.start(self._start_polling)
        mode = "webhook" if self.needs_http else "polling" if self.lease.polling else "standby"
        log.info("telegram channel started (%s) as @%s", mode, self.app.bot.username)

    async def _start_polling(self) -> None:
        await self.app.updater.start_polling(poll_interval=0.0, timeout=self.poll_timeout,
                                             allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False,
                                             error_callback=self._polling_error)

    def _polling_error(self, exc: TelegramError) -> None:
        """PTB retries getUpdates with a growing pause; one line per error, no traceback. A 409 means
        another process polls with this token: said clearly once (updates are de-duplicated in the
        database, so none is answered twice), then only at debug level."""
        if isinstance(exc, Conflict):
            if not self._conflict_warned:
                self._conflict_warned = True
                log.warning("another bot instance is polling with this token (409 Conflict: %s). Only one "
                            "should run; updates are de-duplicated by update_id meanwhile.", exc.message)
            else:
                log.debug("telegram polling: still in conflict with another instance")
            return
        log.warning("telegram polling: %s: %s", type(exc).__name__, exc)

    async def _set_webhook(self, _web_app) -> None:
        await self.app.bot.set_webhook(self.settings.webhook_url, secret_token=self.webhook_secret,
                                       allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        if self.app is None:
            return
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.lease is not None:              # after the last getUpdates: another process may poll now
            await self.lease.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def register_commands(self) -> None:
        """setMyCommands with the Vietnamese descriptions handlers registered (valid names only)."""
        cmds = [BotCommand(name, desc[:256]) for name, desc in self.runtime.core.router.command_help.items()
                if COMMAND_RE.match(name) and desc.strip()]
        await self.app.bot.set_my_commands(cmds[:100])

    # --- webhook --------------------------------------------------------------------------
    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_post(self.webhook_path, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        got = request.headers.get(SECRET_HEADER, "")
        if not self.webhook_secret or not hmac.compare_digest(got.encode(), self.webhook_secret.encode()):
            return web.Response(status=403, text="forbidden")
        if self.app is None or not self.app.running:        # stopping: let Telegram deliver it again later
            return web.Response(status=503, text="stopping")
        try:
            data = await request.json()
        except Exception:
            return web.Response(status=400, text="bad update")
        if _update_id(data) is None:
            return web.Response(status=400, text="bad update")
        update = self.app.bot._parse_one(data)      # unparsable: logged and answered 200, or Telegram resends it
        if update is not None:      # a re-delivered update_id is dropped by the core (processed_events)
            await self.app.update_queue.put(update)
        return web.Response(text="ok")

    # --- updates --------------------------------------------------------------------------
    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()        # always stop the client's spinner
            except Exception:
                log.warning("answerCallbackQuery failed for update %s: %s", update.update_id, sys.exc_info()[1])
        started = time.perf_counter()
        msg = await to_incoming(update, context.bot)
        if msg is None:
            return
        replies = await self.runtime.core.handle(msg)       # logs the update line (route, user id, ms)
        sent = 0
        for reply in replies:
            sent += len(await send_reply(context.bot, msg.chat_id, reply, remove_keyboard=bool(msg.contact_phone)))
        if log.isEnabledFor(logging.DEBUG):
            log.debug(json.dumps({"ev": "tg_update", "update_id": update.update_id, "chat": msg.chat_id,
                                  "sent": sent, "ms": round((time.perf_counter() - started) * 1000, 2)}))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with context, apologise to the user, keep running."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if update is None and isinstance(context.error, NetworkError):   # polling hiccup; PTB retries
            log.warning("telegram polling: %s", context.error)
            return
        if isinstance(context.error, RetryAfter):       # a reply still refused after its retries
            log.warning("telegram update %s: reply to chat %s refused with 429 after %d retries",
                        getattr(update, "update_id", None), chat.id if chat else None, MAX_RETRIES)
        else:
            log.error("telegram update failed update_id=%s chat=%s", getattr(update, "update_id", None),
                      chat.id if chat else None, exc_info=context.error)
        if chat is None:
            return
        try:
            await context.bot.send_message(chat.id, render("errors/internal"))
        except Exception:
            log.warning("could not send the apology to chat %s", chat.id, exc_info=True)
