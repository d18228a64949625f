"""Bot API methods of the fake server (what each one accepts, records and answers).

Refusals and scripted failures come from telegram_checks.ChecksMixin.
"""
from __future__ import annotations

import asyncio
import re
import time

from tests.fakes.telegram_checks import ApiError, ChecksMixin, Sent, flag, inline_only

SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}


class MethodsMixin(ChecksMixin):
    METHODS = {"getme": "m_get_me", "deletewebhook": "m_delete_webhook", "setwebhook": "m_set_webhook",
               "getwebhookinfo": "m_get_webhook_info", "getupdates": "m_get_updates",
               "sendmessage": "m_send_message", "editmessagetext": "m_edit_message_text",
               "senddocument": "m_send_document", "sendchataction": "m_send_chat_action",
               "answercallbackquery": "m_answer_callback_query", "setmycommands": "m_set_my_commands",
               "getmycommands": "m_get_my_commands", "deletemycommands": "m_delete_my_commands",
               "getfile": "m_get_file", "close": "m_true", "logout": "m_true"}

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
            if flag(params.get("drop_pending_updates")):
                self.updates.clear()
            self.webhook = {"url": url, "secret_token": secret}
        self._notify()
        return True

    def m_delete_webhook(self, params, files):
        with self.lock:
            if flag(params.get("drop_pending_updates")):
                self.updates.clear()
            self.webhook = {"url": ""}
        return True

    def m_get_webhook_info(self, params, files):
        with self.lock:
            info = {"url": self.webhook["url"], "has_custom_certificate": False,
                    "pending_update_count": len(self.updates), "max_connections": 40}
            if self.webhook_error:                 # set_webhook_error(): what Telegram reports after a failure
                info.update(self.webhook_error)
            return info

    def set_webhook_error(self, message: str | None, when: float | None = None) -> None:
        """Script getWebhookInfo's last_error_message / last_error_date (None clears them)."""
        from core import clock
        with self.lock:
            self.webhook_error = ({"last_error_message": message,
                                   "last_error_date": int(when if when is not None else clock.now().timestamp())}
                                  if message else {})

    async def m_get_updates(self, params, files):
        self._decode(params)
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        with self.lock:
            if self.poll_faults:
                self._raise_code(self.poll_faults.popleft(), 1)
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
            msg = self._message_obj(chat, text=text, reply_markup=inline_only(markup))
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
            if msg.get("text") == text and msg.get("reply_markup") == inline_only(markup):
                raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                    "reply markup are exactly the same as a current content and reply markup "
                                    "of the message")
            self._rate(chat)
            msg["text"], msg["edit_date"] = text, int(time.time())
            msg.pop("reply_markup", None)
            if markup:
                msg["reply_markup"] = inline_only(markup)
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
            msg = self._message_obj(chat, document=doc, caption=caption, reply_markup=inline_only(markup))
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
            self.callback_answers.append({"id": qid, "text": text, "show_alert": flag(params.get("show_alert"))})
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
