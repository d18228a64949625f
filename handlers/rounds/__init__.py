"""Evaluation rounds: officers announce them, producers list them and are reminded of deadlines."""
from __future__ import annotations


def register(router) -> None:
    """Attach this feature's commands, buttons and jobs (imported lazily: no import cycles)."""
    from handlers.rounds.chat import register as register_chat
    register_chat(router)
