"""Registry of channel senders used by the delivery worker.

A sender is any object with
    async send(chat_id: str, reply: Reply) -> SendResult
    async edit(chat_id: str, message_id: str, reply: Reply) -> SendResult   (optional)
    max_rate: float | None   (optional per-channel overall cap, messages/second)
"""
from __future__ import annotations

from typing import Protocol

from core.messages import Reply
from delivery.outcome import SendResult


class Sender(Protocol):
    async def send(self, chat_id: str, reply: Reply) -> SendResult: ...


class Senders(dict):
    """channel name -> Sender"""

    def for_channel(self, channel: str) -> Sender | None:
        return self.get(channel)
