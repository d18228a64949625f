"""Officer broadcasts: segments, templates, sending, progress and reports."""
from __future__ import annotations


def register(router) -> None:
    """Attach this feature's commands, buttons and jobs (imported lazily: no import cycles)."""
    from handlers.broadcast.chat import register as register_chat
    register_chat(router)
