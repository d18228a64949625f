"""Plain-text rendering for Zalo (both adapters) and the reverse mapping of numbered answers.

Zalo shows no inline buttons and no HTML: a batch of replies becomes plain text, buttons become
one numbered list ("1. …", numbering continues across the replies of one answer), and each text
is split on line boundaries under Zalo's 2,000-character limit. The user answers with the number
or with the words of a label (diacritics and case ignored); `pick` maps that back to the
button's callback data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.messages import Reply
from core.text import fold, html_to_plain, split_text

LIMIT = 2000                 # Zalo text limit (Bot Platform and OA), in characters
CHUNK = LIMIT - 50           # keep a margin: some clients count differently
_NUM = re.compile(r"^\s*(?:số\s*)?(\d{1,2})\s*[.)]?\s*$", re.I)
# A typed phone number is unverified: it is never passed on as a shared contact (that would let
# anyone claim someone else's certificates by typing their number).
CONTACT_NOTE = ("(Zalo chưa cho phép chia sẻ số điện thoại đã xác minh với trợ lý: "
                "bạn chọn cách khác ở trên, hoặc làm bước này trên Telegram.)")
_DECOR = re.compile(r"[^\w\s/-]", re.U)      # emoji and punctuation around labels


@dataclass
class Outgoing:
    """What one Reply becomes on Zalo."""
    texts: list[str]
    file_name: str = ""
    file_caption: str = ""
    file: object = None          # the OutFile (channels.zalo sends it as a link)


@dataclass
class Choices:
    """The numbered choices last shown to one user (persisted by channels.zalo)."""
    items: list[tuple[str, str]] = field(default_factory=list)   # (label, callback data)
    contact: bool = False                                        # a shared phone was requested

    def to_json(self) -> dict:
        return {"c": [list(i) for i in self.items], "contact": self.contact}

    @classmethod
    def from_json(cls, data: dict | None) -> "Choices":
        data = data or {}
        return cls([(str(a), str(b)) for a, b in data.get("c", [])], bool(data.get("contact")))


def _label_key(label: str) -> str:
    return fold(_DECOR.sub(" ", html_to_plain(label)))


def render(replies: list[Reply]) -> tuple[list[Outgoing], Choices | None]:
    """Render a batch of replies; returns the messages and the choices they show (None: no list)."""
    out: list[Outgoing] = []
    items: list[tuple[str, str]] = []
    contact = False
    for reply in replies:
        lines = [html_to_plain(reply.text).strip()] if reply.text.strip() else []
        numbered = []
        for row in reply.buttons:
            for b in row:
                label = html_to_plain(b.label).strip()
                if b.url:
                    numbered.append(f"🔗 {label}: {b.url}")
                elif b.data:
                    items.append((label, b.data))
                    numbered.append(f"{len(items)}. {label}")
        if numbered:
            lines.append("\n".join(numbered))
            lines.append("(Trả lời bằng số để chọn.)" if any(not ln.startswith("🔗") for ln in numbered)
                         else "")
        if reply.request_contact:
            contact = True
            lines.append(CONTACT_NOTE)
        text = "\n\n".join(ln for ln in lines if ln)
        og = Outgoing(split_text(text, CHUNK) if text else [])
        if reply.file is not None:
            og.file_name, og.file_caption = reply.file.filename, html_to_plain(reply.file.caption)
            og.file = reply.file
        if og.texts or og.file_name:
            out.append(og)
    if not items and not contact:
        return out, None
    return out, Choices(items, contact)


def pick(text: str, choices: Choices | None) -> str:
    """Callback data chosen by a typed answer ('2', '2.', 'số 2', or the label's words), else ''."""
    if choices is None or not choices.items or not text:
        return ""
    m = _NUM.match(text)
    if m:
        n = int(m.group(1))
        return choices.items[n - 1][1] if 1 <= n <= len(choices.items) else ""
    key = _label_key(text)
    if not key:
        return ""
    hits = [data for label, data in choices.items if _label_key(label) == key]
    return hits[0] if len(hits) == 1 else ""
