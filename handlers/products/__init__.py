"""Products: a producer's certified products, officer imports, claiming, expiry reminders."""
from __future__ import annotations


def register(router) -> None:
    """Attach this feature's commands, buttons and jobs (imported lazily: no import cycles)."""
    from handlers.products.chat import register as register_chat
    register_chat(router)
