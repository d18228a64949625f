"""PTB rate limiter (telegram.ext.BaseRateLimiter) for every message the bot sends.

- Every send (sendMessage, sendDocument, editMessageText, …) takes a slot of the token's shared
  budget (delivery.budget): replies take an overall slot only, the delivery worker's messages
  (`rate_limit_args={"bulk": True}`) a bulk slot first, so replies keep headroom during broadcasts.
- Sends to one chat are paced: at most CHAT_BURST in any CHAT_WINDOW seconds (Telegram tolerates
  short bursts in a private chat, then answers 429).
- A 429 is logged as one WARNING line and pauses the whole budget for its `retry_after`. A reply is
  then sent again after `retry_after` (up to MAX_RETRIES times): the caller (send_reply) awaits each
  message in turn, so what follows the refused message keeps its order, buttons included. A bulk
  message is not retried here: the worker re-queues its row (`retry_after` does not count as an attempt).
- The delivery worker takes its bulk slot (the long wait) before it commits 'sending'
  (TelegramSender.pace); the next send of that task then takes only the overall slot (PREPAID),
  right before the HTTP call, so a slow commit cannot bunch calls above the rate.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import warnings
from collections import defaultdict, deque

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger("ocop.telegram")

SENDS = {"sendMessage", "sendDocument", "sendPhoto", "sendVideo", "sendAudio", "sendVoice", "sendAnimation",
         "sendMediaGroup", "sendLocation", "sendContact", "sendPoll", "sendSticker", "copyMessage",
         "forwardMessage", "editMessageText", "editMessageCaption", "editMessageReplyMarkup"}
CHAT_BURST = 3
CHAT_WINDOW = 1.15          # a little over Telegram's second: arrival jitter must not make 4 in 1 s
MAX_RETRIES = 5

PREPAID: contextvars.ContextVar[bool] = contextvars.ContextVar("telegram_slot_prepaid", default=False)


def retry_seconds(exc: RetryAfter) -> float:
    """The public RetryAfter.retry_after: an int in PTB 22 (which warns that it will become a
    timedelta), a timedelta with PTB_TIMEDELTA=true; both are read as seconds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class ChatPacer:
    """At most `burst` sends per `window` seconds per chat (sliding window, in process)."""

    def __init__(self, burst: int = CHAT_BURST, window: float = CHAT_WINDOW, clock=time.monotonic):
        self.burst, self.window, self.clock = burst, window, clock
        self._hits: dict[object, deque[float]] = defaultdict(deque)

    def hold(self, chat, seconds: float) -> None:
        """Nothing more to this chat for `seconds` (after its 429)."""
        until = self.clock() + seconds
        self._hits[chat] = deque([until - self.window + 0.001] * self.burst)

    async def wait(self, chat) -> None:
        while True:
            now = self.clock()
            q = self._hits[chat]
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) < self.burst:
                q.append(now)
                if len(self._hits) > 20_000:
                    self._hits = defaultdict(deque, {k: v for k, v in self._hits.items() if v})
                return
            await asyncio.sleep(q[0] + self.window - now + 0.001)


class TelegramLimiter(BaseRateLimiter[dict]):
    def __init__(self, budget, *, max_retries: int = MAX_RETRIES, chats: ChatPacer | None = None):
        self.budget = budget
        self.max_retries = max_retries
        self.chats = chats or ChatPacer()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        await self.budget.close()

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if endpoint not in SENDS:
            return await callback(*args, **kwargs)
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        chat = data.get("chat_id")
        attempt = 0
        while True:
            await self.chats.wait(chat)
            if PREPAID.get():                   # the bulk slot was taken before 'sending'
                PREPAID.set(False)
                await self.budget.overall_slot()
            else:
                await self.budget.slot(bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                retry = not bulk and attempt < self.max_retries
                log.warning("telegram 429 on %s to chat %s: retry after %g s (%s)", endpoint, chat, seconds,
                            f"sending again, attempt {attempt + 2}" if retry else
                            ("the delivery row is re-queued" if bulk else "giving up"))
                self.chats.hold(chat, seconds)
                await self.budget.pause(seconds)
                if not retry:
                    raise
                attempt += 1
                await asyncio.sleep(seconds)
