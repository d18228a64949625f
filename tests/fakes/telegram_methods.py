"""Bot API methods of the fake server, with Telegram's checks and error wordings.

Refusals (HTTP status = error_code): text > 4096 or caption > 1024 (UTF-16 units after entity
parsing), empty text, bad HTML, callback_data > 64 bytes, bad commands; scripted per chat: 403
blocked / deactivated / can't initiate, 400 chat not found, 400 migrated (migrate_to_chat_id),
scripted or random 429 (retry_after) and 5xx; optional rate rules answer 429 and count a violation.
"""
from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field

from tests.fakes.telegram_html import EntityError, parse_html, utf16_len

JSON_FIELDS = {"reply_markup", "entities", "caption_entities", "commands", "scope", "allowed_updates",
               "link_preview_options", "reply_parameters"}
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
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


def _flag(value) -> bool:
    return value in (True, "true", "True", "1", 1)


class MethodsMixin:
    METHODS = {"getme": "m_get_me", "deletewebhook": "m_delete_webhook", "setwebhook": "m_set_webhook",
               "getwebhookinfo": "m_get_webhook_info", "getupdates": "m_get_updates",
               "sendmessage": "m_send_message", "editmessagetext": "m_edit_message_text",
               "senddocument": "m_send_document", "sendchataction": "m_send_chat_action",
               "answercallbackquery": "m_answer_callback_query", "setmycommands": "m_set_my_commands",
               "getmycommands": "m_get_my_commands", "deletemycommands": "m_delete_my_commands",
               "getfile": "m_get_file", "close": "m_true", "logout": "m_true"}

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

    # --- methods --------------------------------------------------------------------------
    def m_true(self, params, files):
        return True

    def m_get_me(self, params, files):
        return {"id": self.bot_id, "is_bot": True, "first_name": "OCOP Bot", "username": self.bot_username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def m_set_webhook(self, params, files):
        url = params.get("url", "")
        secret = params.get("secret_token") or ""
        if secret and not SECRET_RE.match(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        with self.lock:
            if _flag(params.get("drop_pending_updates")):
                self.updates.clear()
            self.webhook = {"url": url, "secret_token": secret}
        self._notify()
        return True

    def m_delete_webhook(self, params, files):
        with self.lock:
            if _flag(params.get("drop_pending_updates")):
                self.updates.clear()
            self.webhook = {"url": ""}
        return True

    def m_get_webhook_info(self, params, files):
        with self.lock:
            return {"url": self.webhook["url"], "has_custom_certificate": False,
                    "pending_update_count": len(self.updates), "max_connections": 40}

    async def m_get_updates(self, params, files):
        self._decode(params)
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        with self.lock:
            if self.webhook["url"]:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            self._poll_gen += 1
            me = self._poll_gen
        self._wake()                                   # an older long poll is terminated (409)
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if me != self._poll_gen:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that "
                                        "only one bot instance is running")
                if offset < 0:
                    del self.updates[:max(0, len(self.updates) + offset)]
                elif offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                batch = self.updates[:limit]
                changed = self._changed
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return batch
            try:
                await asyncio.wait_for(changed.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                pass

    def m_send_message(self, params, files):
        self._decode(params)
        chat = self._chat(params)
        with self.lock:
            self._gate(chat)
            text = str(params.get("text", ""))
            parse_mode = params.get("parse_mode") or ""
            self._check_text(text, parse_mode, 4096, "message")
            markup = self._check_markup(params.get("reply_markup"))
            self._rate(chat)
            msg = self._message_obj(chat, text=text, reply_markup=_inline_only(markup))
            self.sent.append(Sent("sendMessage", chat, msg["message_id"], text, parse_mode, markup))
            return msg

    def m_edit_message_text(self, params, files):
        self._decode(params)
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not supported by the fake")
        chat = self._chat(params)
        with self.lock:
            self._gate(chat)
            mid = int(params.get("message_id") or 0)
            msg = self.messages.get((chat, mid))
            if msg is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            text = str(params.get("text", ""))
            parse_mode = params.get("parse_mode") or ""
            self._check_text(text, parse_mode, 4096, "message")
            markup = self._check_markup(params.get("reply_markup"))
            if msg.get("text") == text and msg.get("reply_markup") == _inline_only(markup):
                raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                    "reply markup are exactly the same as a current content and reply markup "
                                    "of the message")
            self._rate(chat)
            msg["text"], msg["edit_date"] = text, int(time.time())
            msg.pop("reply_markup", None)
            if markup:
                msg["reply_markup"] = _inline_only(markup)
            self.edits.append(Sent("editMessageText", chat, mid, text, parse_mode, markup))
            return msg

    def m_send_document(self, params, files):
        self._decode(params)
        chat = self._chat(params)
        with self.lock:
            self._gate(chat)
            caption = str(params.get("caption", ""))
            parse_mode = params.get("parse_mode") or ""
            self._check_text(caption, parse_mode, 1024, "caption")
            markup = self._check_markup(params.get("reply_markup"))
            if "document" in files:
                filename, content, mime = files["document"]
                file_id = self.add_file(filename, content)
            else:
                file_id = str(params.get("document") or "")
                if not file_id:
                    raise ApiError(400, "Bad Request: there is no document in the request")
                path, content = self.files.get(file_id, (file_id, b""))
                filename, mime = path.rsplit("/", 1)[-1], ""
            self._rate(chat)
            doc = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": filename,
                   "mime_type": mime or "application/octet-stream", "file_size": len(content)}
            msg = self._message_obj(chat, document=doc, caption=caption, reply_markup=_inline_only(markup))
            self.sent.append(Sent("sendDocument", chat, msg["message_id"], "", parse_mode, markup,
                                              filename=filename, content=content, caption=caption, mime=mime))
            return msg

    def m_send_chat_action(self, params, files):
        chat = self._chat(params)
        action = params.get("action", "")
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        with self.lock:
            self._gate(chat)
            self.chat_actions.append((chat, action))
        return True

    def m_answer_callback_query(self, params, files):
        qid = str(params.get("callback_query_id", ""))
        text = str(params.get("text", "") or "")
        with self.lock:
            if qid not in self.open_callbacks:
                raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID "
                                    "is invalid")
            if len(text) > 200:
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            self.open_callbacks.discard(qid)
            self.callback_answers.append({"id": qid, "text": text, "show_alert": _flag(params.get("show_alert"))})
        return True

    @staticmethod
    def _scope_key(params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return (scope.get("type", "default"), params.get("language_code") or "")

    def m_set_my_commands(self, params, files):
        self._decode(params)
        commands = params.get("commands") or []
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for c in commands:
            if not COMMAND_RE.match(str(c.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self.lock:
            self.commands[self._scope_key(params)] = [dict(command=c["command"], description=c["description"])
                                                      for c in commands]
        return True

    def m_get_my_commands(self, params, files):
        self._decode(params)
        with self.lock:
            return self.commands.get(self._scope_key(params), [])

    def m_delete_my_commands(self, params, files):
        self._decode(params)
        with self.lock:
            self.commands.pop(self._scope_key(params), None)
        return True

    def m_get_file(self, params, files):
        file_id = str(params.get("file_id", ""))
        with self.lock:
            if file_id not in self.files:
                raise ApiError(400, "Bad Request: invalid file_id")
            path, content = self.files[file_id]
        if len(content) > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content), "file_path": path}


def _inline_only(markup: dict | None) -> dict | None:
    """Telegram echoes only inline keyboards in the returned Message."""
    if markup and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None
