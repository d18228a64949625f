"""FAQ: free-text questions answered by the engine (core/faq), feedback, questions to officers (chat.py);
the console's FAQ page — misses, entries, officers' edits with history (web.py, repo.py); export-faq (cli.py).
"""
from __future__ import annotations

from handlers.faq.chat import (LIVE, MAX_QUESTION, NS, entry_reply, faq_replies, feedback_buttons, get_engine,
                               get_renderer, known_id, popular_ids, register)

__all__ = ["LIVE", "MAX_QUESTION", "NS", "entry_reply", "faq_replies", "feedback_buttons", "get_engine",
           "get_renderer", "known_id", "popular_ids", "register"]
