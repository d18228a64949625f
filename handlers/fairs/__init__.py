"""Trade fairs: listing, .ics files, officers' /themhoicho and file import, deadline reminders."""
from __future__ import annotations


def register(router) -> None:
    """Attach this feature's commands, buttons and jobs (imported lazily: no import cycles)."""
    from handlers.fairs.chat import register as register_chat
    register_chat(router)
