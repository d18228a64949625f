"""Officer roles: /capquyen /thuhoiquyen /maso (chat.py) and the console's «Cán bộ» and «Nhật ký» (web.py)."""
from __future__ import annotations


def register(router) -> None:
    from handlers.roles.chat import register as register_chat
    register_chat(router)
