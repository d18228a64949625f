"""Linking a person's Telegram and Zalo accounts into one user."""
from __future__ import annotations


def register(router) -> None:
    """Attach this feature's commands, buttons and jobs (imported lazily: no import cycles)."""
    from handlers.link.chat import register as register_chat
    register_chat(router)
