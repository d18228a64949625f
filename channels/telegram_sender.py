"""Proactive sends through the channel's own PTB bot, with Telegram errors mapped to SendResult.

Mapping (delivery.worker decides what to do with each status):
- RetryAfter (429)                          -> retry, retry_after = seconds (the worker pauses everyone;
                                               the limiter already logged the one WARNING line)
- Forbidden blocked / deactivated / can't initiate / kicked, BadRequest "chat not found"
                                            -> blocked, deactivate=True (never retried)
- other Forbidden                           -> retry (Telegram reportedly answers a transient 403)
- BadRequest (can't parse, too long, …)     -> failed (our content is wrong; retrying cannot help)
- TimedOut / NetworkError (5xx, resets)     -> retry with backoff
- ChatMigrated (group became a supergroup)  -> sent again once to the new chat id; the stored chat id
  is not rewritten here (the identity's chat_id is refreshed on the person's next message).
A multi-part text that fails after its first part is retried whole: the first part may then arrive twice
(proactive messages are far below 4096 characters, so this does not happen in practice).
"""
from __future__ import annotations

import logging

from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from channels.telegram_limiter import PREPAID, retry_seconds
from channels.telegram_render import inline_markup, safe_html, send_reply, split_html
from core.messages import Reply
from delivery.outcome import SendResult

log = logging.getLogger("ocop.telegram")

GONE = ("blocked", "deactivated", "initiate", "kicked", "chat not found", "user not found")


def classify(exc: Exception) -> SendResult:
    """Telegram error -> SendResult for the delivery worker."""
    text = f"{type(exc).__name__}: {exc}"[:300]
    low = str(exc).lower()
    if isinstance(exc, RetryAfter):
        return SendResult("retry", error=text, retry_after=retry_seconds(exc))
    if isinstance(exc, (Forbidden, BadRequest)) and any(k in low for k in GONE):
        return SendResult("blocked", error=text, deactivate=True)
    if isinstance(exc, Forbidden):
        return SendResult("retry", error=text)
    if isinstance(exc, BadRequest):
        return SendResult("failed", error=text)
    if isinstance(exc, NetworkError):          # TimedOut is a NetworkError
        return SendResult("retry", error=text)
    return SendResult("failed", error=text)


class TelegramSender:
    """delivery.senders.Sender for Telegram; `bot` is resolved when the channel has started."""

    def __init__(self, get_bot):
        self._get_bot = get_bot

    @property
    def bot(self):
        bot = self._get_bot()
        if bot is None:
            raise RuntimeError("the Telegram channel has not started")
        return bot

    def _limited(self) -> dict:
        """rate_limit_args marking the worker's messages as bulk (only with a TelegramLimiter)."""
        return {"bulk": True} if getattr(self.bot, "rate_limiter", None) is not None else {}

    async def pace(self, chat_id: str, personal: bool = False) -> None:
        """The worker calls this before committing 'sending': wait for the token's bulk slot here, so a
        row never sits in 'sending' while it queues for the shared budget (the send then takes only
        the short overall slot). A personal message (an officer's answer sent while a broadcast is
        going out) does not queue for a bulk slot."""
        limiter = getattr(self.bot, "rate_limiter", None)
        if limiter is not None:
            if not personal:
                await limiter.budget.bulk_slot()
            PREPAID.set(True)          # the next send takes only its overall slot

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        try:
            try:
                sent = await send_reply(self.bot, chat_id, reply, rate_limit_args=self._limited())
            except ChatMigrated as exc:
                log.info("chat %s migrated to %s; sending there", chat_id, exc.new_chat_id)
                sent = await send_reply(self.bot, exc.new_chat_id, reply, rate_limit_args=self._limited())
        except TelegramError as exc:
            result = classify(exc)
            if not result.retry_after:
                log.info("telegram send to %s: %s (%s)", chat_id, result.status, result.error)
            return result
        finally:
            PREPAID.set(False)
        return SendResult.ok(sent[-1] if sent else "")

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> SendResult:
        """Replace a progress message's text (first 4096 characters) and inline keyboard."""
        text = split_html(safe_html(reply.text))[0]
        limited = self._limited()
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=int(message_id),
                                             reply_markup=inline_markup(reply),
                                             **({"rate_limit_args": limited} if limited else {}))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return SendResult.ok(message_id)
            return classify(exc)
        except TelegramError as exc:
            return classify(exc)
        return SendResult.ok(message_id)
