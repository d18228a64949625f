"""What tests do with the fake server: script failures, push updates, inspect what the bot sent."""
from __future__ import annotations

import asyncio
import time
from collections import deque

from aiohttp import ClientSession, ClientTimeout

from tests.fakes.telegram_checks import RateRule, Sent

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class ScriptMixin:
    """Needs the FakeTelegram state (lock, sent, updates, chat_state, faults, factory…)."""

    # --- scripting ------------------------------------------------------------------------
    def block(self, chat_id: int) -> None:
        self.chat_state[int(chat_id)] = ("blocked",)

    def deactivate(self, chat_id: int) -> None:
        self.chat_state[int(chat_id)] = ("deactivated",)

    def not_found(self, chat_id: int) -> None:
        self.chat_state[int(chat_id)] = ("not_found",)

    def cant_initiate(self, chat_id: int) -> None:
        self.chat_state[int(chat_id)] = ("cant_initiate",)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        self.chat_state[int(chat_id)] = ("migrated", int(new_chat_id))

    def unblock(self, chat_id: int) -> None:
        self.chat_state.pop(int(chat_id), None)

    def script_errors(self, errors: list, chat_id: int | None = None, retry_after: int = 1) -> None:
        """Next sends to chat_id (None = any chat) answer these, in order: 429, 500, 502, 504…"""
        with self.lock:
            q = self.faults.setdefault(None if chat_id is None else int(chat_id), deque())
            for code in errors:
                q.append((int(code), retry_after))

    def fail_polls(self, errors: list) -> None:
        """The next getUpdates calls answer these HTTP errors (429 with retry_after 1), in order."""
        with self.lock:
            self.poll_faults.extend(int(code) for code in errors)

    def flood(self, probability: float, retry_after: int = 1) -> None:
        """Answer this share of sends with 429 retry_after."""
        self.flood_probability, self.flood_retry_after = probability, retry_after

    def transient_errors(self, probability: float) -> None:
        """Answer this share of sends with 502 Bad Gateway."""
        self.error_probability = probability

    def set_rates(self, overall: tuple[int, float] | None = None,
                  per_chat: tuple[int, float] | None = None) -> None:
        """Enforce at most `count` sends per `window` seconds overall / per chat (429 + counted)."""
        with self.lock:
            self.overall = RateRule(*overall) if overall else None
            self.per_chat = RateRule(*per_chat) if per_chat else None

    # --- updates for the bot ---------------------------------------------------------------
    def push(self, update: dict) -> dict:
        """Queue an update for getUpdates, or POST it to the webhook when one is set."""
        with self.lock:
            if "callback_query" in update:
                self.open_callbacks.add(update["callback_query"]["id"])
            hook = dict(self.webhook)
            if not (hook["url"] and self.auto_webhook):
                self.updates.append(update)
        if hook["url"] and self.auto_webhook:
            self._call_in_loop(self._spawn_webhook, update, hook)
        else:
            self._notify()
        return update

    def push_text(self, chat_id: int, text: str, **kw) -> dict:
        return self.push(self.factory.text(chat_id, text, **kw))

    def push_command(self, chat_id: int, command: str, payload: str = "", **kw) -> dict:
        return self.push(self.factory.command(chat_id, command, payload, **kw))

    def push_contact(self, chat_id: int, phone: str, **kw) -> dict:
        return self.push(self.factory.contact(chat_id, phone, **kw))

    def push_document(self, chat_id: int, filename: str, content: bytes, mime: str = "", **kw) -> dict:
        file_id = self.add_file(filename, content)
        return self.push(self.factory.document(chat_id, file_id, filename, len(content), mime, **kw))

    def push_callback(self, chat_id: int, data: str, message_id: int | None = None, **kw) -> dict:
        """A button tap; the message is the bot's message `message_id` (default: the latest with that data)."""
        message = None
        with self.lock:
            if message_id is not None:
                message = self.messages.get((int(chat_id), int(message_id)))
            else:
                for s in reversed(self.sent):
                    if s.chat_id == int(chat_id) and any(b.get("callback_data") == data for b in s.buttons()):
                        message = self.messages.get((s.chat_id, s.message_id))
                        break
        return self.push(self.factory.callback(chat_id, data, message, **kw))

    def press(self, chat_id: int, label_contains: str) -> dict:
        """Tap the button whose label contains `label_contains` in the latest keyboard sent to the chat."""
        with self.lock:
            for s in reversed(self.sent):
                if s.chat_id == int(chat_id) and s.buttons():
                    for b in s.buttons():
                        if label_contains.lower() in b.get("text", "").lower() and b.get("callback_data"):
                            return self.push_callback(chat_id, b["callback_data"], s.message_id)
        raise AssertionError(f"no button containing {label_contains!r} sent to chat {chat_id}")

    def add_file(self, filename: str, content: bytes) -> str:
        with self.lock:
            file_id = f"F{len(self.files) + 1:05d}"
            self.files[file_id] = (f"documents/{file_id}_{filename}", bytes(content))
            return file_id

    async def post_webhook(self, url: str, update: dict, secret: str | None = None) -> int:
        """POST an update to a webhook URL like Telegram does; returns the HTTP status."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with ClientSession(timeout=ClientTimeout(total=10)) as http:
            async with http.post(url, json=update, headers=headers) as resp:
                await resp.read()
                return resp.status

    # --- what the bot did -------------------------------------------------------------------
    def sent_to(self, chat_id: int) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.chat_id == int(chat_id)]

    def texts_to(self, chat_id: int) -> list[str]:
        return [s.text or s.caption for s in self.sent_to(chat_id)]

    def rejected(self) -> list[tuple[str, int | None, int, str]]:
        with self.lock:
            return list(self.errors)

    async def wait_sent(self, count: int, chat_id: int | None = None, timeout: float = 5.0) -> list[Sent]:
        """Wait until at least `count` messages were sent (to `chat_id`); returns them."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                got = [s for s in self.sent if chat_id is None or s.chat_id == int(chat_id)]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages to {chat_id}, got {len(got)}: "
                                     f"{[g.text[:80] for g in got]}; rejected: {self.rejected()}")
            await asyncio.sleep(0.005)

    async def wait_for(self, predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.005)
