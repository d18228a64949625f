"""Builders for the JSON Update objects a real Telegram server would deliver (private chats)."""
from __future__ import annotations

import itertools
import time


def user_obj(user_id: int, first_name: str = "Nông dân", language_code: str = "vi") -> dict:
    return {"id": int(user_id), "is_bot": False, "first_name": first_name, "language_code": language_code}


def chat_obj(chat_id: int, first_name: str = "Nông dân") -> dict:
    cid = int(chat_id)
    return {"id": cid, "type": "private" if cid > 0 else "supergroup", "first_name": first_name}


class UpdateFactory:
    """Creates update dicts with increasing update_id and per-chat incoming message ids."""

    def __init__(self, start_update_id: int = 1000):
        self._update_ids = itertools.count(start_update_id)
        self._msg_ids = itertools.count(1)
        self._cb_ids = itertools.count(1)

    def _message(self, chat_id: int, user_id: int | None, name: str, **fields) -> dict:
        uid = int(user_id if user_id is not None else chat_id)
        msg = {"message_id": next(self._msg_ids), "date": int(time.time()),
               "chat": chat_obj(chat_id, name), "from": user_obj(uid, name)}
        msg.update(fields)
        return msg

    def wrap(self, **payload) -> dict:
        return {"update_id": next(self._update_ids), **payload}

    def text(self, chat_id: int, text: str, *, user_id: int | None = None, name: str = "Nông dân") -> dict:
        fields: dict = {"text": text}
        if text.startswith("/"):
            cmd = text.split(maxsplit=1)[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0,
                                   "length": len(cmd.encode("utf-16-le")) // 2}]
        return self.wrap(message=self._message(chat_id, user_id, name, **fields))

    def command(self, chat_id: int, command: str, payload: str = "", **kw) -> dict:
        text = "/" + command.lstrip("/") + (f" {payload}" if payload else "")
        return self.text(chat_id, text, **kw)

    def callback(self, chat_id: int, data: str, message: dict | None = None, *, user_id: int | None = None,
                 name: str = "Nông dân") -> dict:
        uid = int(user_id if user_id is not None else chat_id)
        message = message or {"message_id": 1, "date": int(time.time()), "chat": chat_obj(chat_id, name),
                              "text": "…"}
        return self.wrap(callback_query={"id": f"cb{next(self._cb_ids)}", "from": user_obj(uid, name),
                                         "chat_instance": f"ci{chat_id}", "data": data, "message": message})

    def contact(self, chat_id: int, phone: str, *, user_id: int | None = None, name: str = "Nông dân") -> dict:
        uid = int(user_id if user_id is not None else chat_id)
        contact = {"phone_number": phone, "first_name": name, "user_id": uid}
        return self.wrap(message=self._message(chat_id, user_id, name, contact=contact))

    def document(self, chat_id: int, file_id: str, filename: str, size: int, mime: str = "",
                 caption: str = "", *, user_id: int | None = None, name: str = "Nông dân") -> dict:
        doc = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": filename, "file_size": size}
        if mime:
            doc["mime_type"] = mime
        fields: dict = {"document": doc}
        if caption:
            fields["caption"] = caption
        return self.wrap(message=self._message(chat_id, user_id, name, **fields))
