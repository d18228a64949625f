"""Tự chấm điểm sơ bộ (self-assessment pre-score) on the 26 sheets of QĐ 26/2026/QĐ-TTg, Phụ lục II.

chat.py (handlers, /tuchamdiem) · flow.py (routing) · rules.py (scoring) · sheets.py (data) ·
view.py (replies) · pdf.py (Mẫu số 02 draft). Other features open it with view.entry_button().
"""
from __future__ import annotations


def register(router) -> None:
    from handlers.selfassess.chat import register as _register
    _register(router)


def entry_button(group: str = ""):
    from handlers.selfassess.view import entry_button as _entry
    return _entry(group)
