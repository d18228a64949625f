"""Checks of the fake Bot API server, in Telegram's error wordings (used by telegram_methods.py).

Refusals (HTTP status = error_code): text > 4096 or caption > 1024 (UTF-16 units after entity
parsing), empty text, bad HTML, callback_data > 64 bytes, bad commands; scripted per chat: 403
blocked / deactivated / can't initiate, 400 chat not found, 400 migrated (migrate_to_chat_id),
scripted or random 429 (retry_after) and 5xx; optional rate rules answer 429 and count a violation.
"""
from __future__ import annotations

import json
import math
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field

from tests.fakes.telegram_html import EntityError, parse_html, utf16_len

JSON_FIELDS = {"reply_markup", "entities", "caption_entities", "commands", "scope", "allowed_updates",
               "link_preview_options", "reply_parameters"}
CHAT_ERRORS = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "cant_initiate": (403, "Forbidden: bot can't initiate conversation with a user"),
    "not_found": (400, "Bad Request: chat not found"),
}
SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                 504: "Gateway Timeout"}


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters or {}


class RateRule:
    """At most `limit` accepted sends per sliding `window` seconds, per key."""

    def __init__(self, limit: int, window: float = 1.0):
        self.limit, self.window = int(limit), float(window)
        self.clear()

    def clear(self) -> None:
        self.hits: dict = defaultdict(deque)

    def wait_needed(self, key, now: float) -> float:
        q = self.hits[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return (q[0] + self.window - now) if len(q) >= self.limit else 0.0

    def record(self, key, now: float) -> None:
        self.hits[key].append(now)


@dataclass
class Sent:
    """One message the bot successfully sent (or edited)."""
    method: str
    chat_id: int
    message_id: int
    text: str = ""
    parse_mode: str = ""
    reply_markup: dict | None = None
    t: float = field(default_factory=time.monotonic)
    filename: str = ""
    content: bytes = b""
    caption: str = ""
    mime: str = ""

    def buttons(self) -> list[dict]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [b for row in rows for b in row]

    def to_json(self) -> dict:
        d = asdict(self)
        d["content"] = len(self.content)
        return d


def max_per_second(times: list[float], window: float = 1.0) -> int:
    """The most sends in any sliding `window` seconds (what Telegram's overall limit looks at)."""
    times, best, j = sorted(times), 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def flag(value) -> bool:
    return value in (True, "true", "True", "1", 1)


class ChecksMixin:
    """Validation and failure injection shared by the methods; needs the FakeTelegram state."""

    # --- shared checks ----------------------------------------------------------------------
    @staticmethod
    def _decode(params: dict) -> dict:
        for key in JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
        return params

    @staticmethod
    def _chat(params: dict) -> int:
        raw = params.get("chat_id")
        if raw in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    def _gate(self, chat: int) -> None:
        """Chat state and scripted / random failures, checked before anything else."""
        state = self.chat_state.get(chat)
        if state and state[0] == "migrated":
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": state[1]})
        if state:
            raise ApiError(*CHAT_ERRORS[state[0]])
        for key in (chat, None):
            q = self.faults.get(key)
            if q:
                code, retry_after = q.popleft()
                self._raise_code(code, retry_after)
        if self.flood_probability and self.random.random() < self.flood_probability:
            self._raise_code(429, self.flood_retry_after)
        if self.error_probability and self.random.random() < self.error_probability:
            self._raise_code(502, 0)

    @staticmethod
    def _raise_code(code: int, retry_after: int) -> None:
        if code == 429:
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        raise ApiError(code, SERVER_ERRORS.get(code, "Bad Request"))

    def _rate(self, chat: int) -> None:
        """Enforce the optional rate rules; a violation is answered 429 and counted."""
        now = time.monotonic()
        for name, rule, key in (("overall", self.overall, None), ("per_chat", self.per_chat, chat)):
            if rule is None:
                continue
            wait = rule.wait_needed(key, now)
            if wait > 0:
                self.violations.append((chat, name, now))
                retry = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        for rule, key in ((self.overall, None), (self.per_chat, chat)):
            if rule is not None:
                rule.record(key, now)

    @staticmethod
    def _check_text(text: str, parse_mode: str, limit: int, what: str) -> str:
        plain = text
        if (parse_mode or "").upper() == "HTML":
            try:
                plain = parse_html(text)
            except EntityError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from None
        if what == "message" and not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > limit:
            raise ApiError(400, "Bad Request: message is too long" if what == "message"
                           else "Bad Request: message caption is too long")
        return plain

    @staticmethod
    def _check_markup(markup) -> dict | None:
        if not markup:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for b in row:
                if not b.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")
                data = b.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if data is None and not (b.get("url") or b.get("switch_inline_query") is not None):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: a button must "
                                        "have exactly one optional field")
        for row in markup.get("keyboard") or []:
            for b in row:
                if not (b if isinstance(b, str) else b.get("text")):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")
        return markup

    def _message_obj(self, chat: int, **fields) -> dict:
        self._next_message_id += 1
        msg = {"message_id": self._next_message_id, "date": int(time.time()),
               "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup", "first_name": "Nông dân"},
               "from": {"id": self.bot_id, "is_bot": True, "first_name": "OCOP Bot",
                        "username": self.bot_username}}
        msg.update({k: v for k, v in fields.items() if v not in (None, "")})
        self.messages[(chat, msg["message_id"])] = msg
        return msg


def inline_only(markup: dict | None) -> dict | None:
    """Telegram echoes only inline keyboards in the returned Message."""
    if markup and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None
