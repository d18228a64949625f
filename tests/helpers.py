"""Small helpers to talk to the neutral core in tests."""
from __future__ import annotations

from core.messages import Incoming, Reply


def msg(text: str = "", *, user: str = "u1", channel: str = "console", callback: str = "", **kw) -> Incoming:
    return Incoming(channel=channel, user_key=user, chat_id=user, text=text, callback=callback,
                    display_name=kw.pop("name", "Nguyễn Văn A"), **kw)


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def buttons(replies: list[Reply]) -> list:
    return [b for r in replies for row in r.buttons for b in row]


def button_data(replies: list[Reply]) -> list[str]:
    return [b.data for b in buttons(replies)]


def find_button(replies: list[Reply], label_part: str):
    for b in buttons(replies):
        if label_part.lower() in b.label.lower():
            return b
    raise AssertionError(f"no button containing {label_part!r} in {[b.label for b in buttons(replies)]}")
