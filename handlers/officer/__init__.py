"""Questions for officers: /cauhoi, answers delivered to producers, FAQ-candidate export."""
from __future__ import annotations


def register(router) -> None:
    """Attach this feature's commands, buttons and jobs (imported lazily: no import cycles)."""
    from handlers.officer.chat import register as register_chat
    register_chat(router)
