"""Terminal chat: the same bot with buttons shown as numbered choices."""
from __future__ import annotations

import asyncio
import sys

from core.messages import Button, Incoming, Reply
from core.text import fold, html_to_plain
from delivery.outcome import SendResult


def render_plain(reply: Reply) -> tuple[str, list[Button]]:
    """Plain text with numbered choices; returns the text and the buttons in number order."""
    text = html_to_plain(reply.text)
    flat = [b for row in reply.buttons for b in row]
    lines = [text] if text else []
    for i, b in enumerate(flat, 1):
        lines.append(f"  {i}. {b.label}" + (f" → {b.url}" if b.url else ""))
    if reply.request_contact:
        lines.append("  (gõ số điện thoại của bạn)")
    if reply.file:
        lines.append(f"  [tệp đính kèm: {reply.file.filename}, {len(reply.file.content)} byte]")
    return "\n".join(lines), flat


def pick_choice(text: str, choices: list[Button]) -> Button | None:
    """A bare number, or the exact label (diacritics ignored), selects a button."""
    t = text.strip()
    if t.isdigit() and 1 <= int(t) <= len(choices):
        return choices[int(t) - 1]
    folded = fold(t)
    for b in choices:
        if folded and fold(html_to_plain(b.label)).strip("❓📋⭐🎪🔔👤 ") == folded:
            return b
    return None


QUIT = {"/thoat", "/quit", "/exit"}      # leave the console (/huy only leaves a step); diacritics ignored


class ConsoleSender:
    """Proactive messages to the console user are printed."""
    def __init__(self, out=None):
        self.out = out or sys.stdout

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        text, _ = render_plain(reply)
        print(f"\n[thông báo]\n{text}\n", file=self.out, flush=True)
        return SendResult.ok()


class ConsoleChannel:
    name = "console"

    def __init__(self, core, user_key: str = "console", inp=None, out=None):
        self.core = core
        self.user_key = user_key
        self.inp = inp or sys.stdin
        self.out = out or sys.stdout
        self.sender = ConsoleSender(self.out)
        self.choices: list[Button] = []

    def show(self, replies: list[Reply]) -> None:
        self.choices = []
        for r in replies:
            text, flat = render_plain(r)
            if flat:
                self.choices = flat
            print(text + "\n", file=self.out, flush=True)
            if r.file:
                self._save_file(r)

    def _save_file(self, reply: Reply) -> None:
        from core.config import ROOT
        path = ROOT / "data" / "console-files" / reply.file.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(reply.file.content)
        print(f"  (đã lưu tệp: {path})\n", file=self.out, flush=True)

    def to_incoming(self, line: str) -> Incoming:
        msg = Incoming(channel="console", user_key=self.user_key, chat_id=self.user_key,
                       display_name="Bạn")
        choice = pick_choice(line, self.choices)
        if choice is not None and choice.data:
            msg.callback = choice.data
        elif line.strip().startswith("+") or (line.strip().replace(" ", "").isdigit() and len(line.strip()) >= 9
                                               and not self.choices):
            msg.contact_phone = line.strip()
        else:
            msg.text = line
        return msg

    async def run(self) -> None:
        print("Trợ lý OCOP – chế độ dòng lệnh. Gõ câu hỏi, số để chọn, /huy để thoát bước, "
              "/thoat (hoặc Ctrl+D) để thoát.\n",
              file=self.out, flush=True)
        self.show(await self.core.handle(Incoming("console", self.user_key, self.user_key, text="/start")))
        loop = asyncio.get_running_loop()
        while True:
            print("> ", end="", file=self.out, flush=True)
            line = await loop.run_in_executor(None, self.inp.readline)
            if not line:
                break
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if fold(line) in QUIT:
                break
            self.show(await self.core.handle(self.to_incoming(line)))
