"""Reach every producer on the register (issue 14): the reminder route chain (chain.py), ZNS
consent (consent.py), the officers' call list (calllist.py, /canlienhe here), file links for Zalo
(files.py, web.py) and admin alerts (alerts.py)."""
from __future__ import annotations


def register(router) -> None:
    from handlers.reach.bot import register as reg
    reg(router)
