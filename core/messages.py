"""Channel-neutral messages: what handlers receive and what they return.

Reply.text is a small HTML subset (<b>, <i>, <a href>) produced by autoescaping
Jinja2 templates; channels that cannot show HTML (Zalo, console) strip the tags.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class Button:
    label: str
    data: str = ""          # callback data: short ASCII, <= 64 bytes ("ns:rest")
    url: str = ""           # or an URL button

    def __post_init__(self):
        if self.data and len(self.data.encode()) > 64:
            raise ValueError(f"callback data too long: {self.data!r}")


@dataclass(frozen=True)
class OutFile:
    filename: str
    content: bytes
    mime: str = "application/octet-stream"
    caption: str = ""


@dataclass
class Reply:
    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    file: Optional[OutFile] = None
    request_contact: bool = False      # ask the user to share their phone number
    no_preview: bool = False           # links in the text get no preview (e.g. one-time sign-in links)
    template: str = ""                 # id of the content template that wrote the text (tests assert on it)
    data: dict = field(default_factory=dict, repr=False)   # the values it was rendered with

    def to_payload(self) -> dict:
        """JSON-able form stored on delivery rows (files are not queued)."""
        return {
            "text": self.text,
            "buttons": [[{"label": b.label, "data": b.data, "url": b.url} for b in row] for row in self.buttons],
        }

    @classmethod
    def from_payload(cls, payload: dict) -> "Reply":
        rows = [[Button(b["label"], b.get("data", ""), b.get("url", "")) for b in row]
                for row in payload.get("buttons", [])]
        return cls(text=payload.get("text", ""), buttons=rows)


@dataclass
class InFile:
    filename: str
    size: int
    mime: str = ""
    data: Optional[bytes] = None      # adapters download lazily when small enough


@dataclass
class Incoming:
    channel: str                # telegram | zalo | console
    user_key: str               # stable id of the person on that channel
    chat_id: str                # where to answer
    text: str = ""              # message text (commands included, e.g. "/start abc")
    callback: str = ""          # button data when a button was tapped
    display_name: str = ""
    contact_phone: str = ""     # phone number shared through a contact button
    contact_not_own: bool = False   # a contact card of someone else was shared (its number is not used)
    file: Optional[InFile] = None
    message_id: str = ""
    raw_message_id: str = ""    # id of the message a tapped button belongs to
    event_id: str = ""          # the channel's id of this update: processed once (processed_events)

    @property
    def command(self) -> str:
        """'start' for '/start payload' (also '/start@bot'); '' when not a command."""
        t = self.text.strip()
        if not t.startswith("/") or self.callback:
            return ""
        head = t.split(maxsplit=1)[0][1:]
        return head.split("@", 1)[0].lower()

    @property
    def args(self) -> list[str]:
        if not self.command:
            return []
        parts = self.text.strip().split(maxsplit=1)
        return parts[1].split() if len(parts) > 1 else []

    @property
    def arg_text(self) -> str:
        parts = self.text.strip().split(maxsplit=1)
        return parts[1] if self.command and len(parts) > 1 else ""
