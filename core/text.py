"""Vietnamese text helpers: NFC normalisation, diacritic folding, HTML->plain, splitting."""
from __future__ import annotations

import html
import re
import unicodedata

_WS = re.compile(r"\s+")
# control and bidi characters, and lone UTF-16 surrogates (JSON "\\ud800"): no database stores them
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\ufeff\ud800-\udfff]")
_TAG = re.compile(r"<\s*(/?)\s*(b|strong|i|em|u|s|code|pre|a)(\s[^>]*)?>", re.I)


def clean_input(text: str) -> str:
    """NFC-normalise user input (text, display names, button data) and drop control / bidi characters
    and unpaired surrogates."""
    return _CTRL.sub("", unicodedata.normalize("NFC", text or "")).strip()


def _fold_slow(text: str) -> str:
    t = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in t if unicodedata.category(ch) != "Mn")


# Latin letters (Vietnamese included) and combining marks fold one character at a time: a table lookup
_LATIN = [*range(0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00)]
_FOLD_CHAR = {c: _fold_slow(chr(c)) for c in _LATIN}
_NOT_LATIN = re.compile(r"[^\u0000-\u024f\u0300-\u036f\u1e00-\u1eff]")


def fold(text: str) -> str:
    """Lower-case, remove Vietnamese tones/marks (đ->d), collapse whitespace."""
    text = text or ""
    t = _fold_slow(text) if _NOT_LATIN.search(text) else text.translate(_FOLD_CHAR)
    return _WS.sub(" ", t).strip()


def html_to_plain(text: str) -> str:
    """Telegram-HTML subset -> plain text for Zalo and the console (links keep their URL)."""
    def link(m: re.Match) -> str:
        return m.group(2) if m.group(2) == m.group(1) else f"{m.group(2)} ({m.group(1)})"
    text = re.sub(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', link, text, flags=re.I | re.S)
    text = _TAG.sub("", text)
    return html.unescape(text)


def split_text(text: str, limit: int) -> list[str]:
    """Split on line boundaries into chunks of at most `limit` characters (hard-cut long lines)."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    cur = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if cur:
                chunks.append(cur)
                cur = ""
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            chunks.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{cur}\n{line}" if cur else line
        if len(candidate) > limit:
            chunks.append(cur)
            cur = line
        else:
            cur = candidate
    if cur:
        chunks.append(cur)
    return [c for c in chunks if c.strip()]


MAX_ID = 2**31 - 1      # INTEGER on SQLite and PostgreSQL


def parse_id(value) -> int | None:
    """A database id from a button or a typed argument: ASCII digits within 1..MAX_ID, else None."""
    s = str(value if value is not None else "").strip()
    if not (s.isascii() and s.isdigit()) or len(s) > 10:
        return None
    n = int(s)
    return n if 0 < n <= MAX_ID else None
