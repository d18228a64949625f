"""Dossier guidance: /hoso walkthrough (chat.py) and the officers' funnel page /quantri/ho-so (web.py).

The flow definition stays in flows/dossier.py (+ dossier_view, content, pdf, store) and the document
rules in rules/dossier.py; answers live in table flow_answers (flow="dossier").
"""
from __future__ import annotations


def register(router) -> None:
    """Attach the chat commands, buttons and flow (imported lazily: no import cycles)."""
    from handlers.dossier.chat import register_chat
    register_chat(router)
