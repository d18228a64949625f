"""Pacing: an overall token bucket, a minimum gap per chat, and a global pause on 429.

A chat that is not ready yet never holds up the others (no head-of-line blocking): the caller
waits for its own chat outside the lock and only the overall slot is handed out under the lock.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections import deque


class Pacer:
    def __init__(self, rate: float, per_chat_interval: float = 1.0, clock=time.monotonic):
        self.rate = max(rate, 0.1)
        self.per_chat = per_chat_interval
        self.clock = clock
        self._next_slot = clock()
        self._chat_next: dict[str, float] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._calls: deque[float] = deque()          # times of the last calls (hard 1-second cap)
        self._cap = max(1, math.floor(self.rate * 1.05))   # 5 % headroom for jitter, still below ~30/s

    def pause(self, seconds: float) -> None:
        """Flood control: nobody sends before now + seconds."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def chat_ready_in(self, chat: str) -> float:
        return max(0.0, self._chat_next.get(chat, 0.0) - self.clock())

    async def acquire(self, chat: str, urgent: bool = False) -> None:
        """Wait for this chat's own gap, then for an overall slot (and any 429 pause).

        `urgent` (a reply to a person, sent beside a broadcast batch): not queued behind the batch's
        waiting sends; its slot still counts against theirs, and gate() still caps every second."""
        if urgent:
            while (wait := max(self.chat_ready_in(chat), self._paused_until - self.clock())) > 0:
                await asyncio.sleep(wait)
            now = self.clock()
            self._next_slot = max(self._next_slot, now) + 1.0 / self.rate
            self._chat_next[chat] = now + self.per_chat
            return
        while True:
            wait = self.chat_ready_in(chat)
            if wait > 0:
                await asyncio.sleep(wait)
            async with self._lock:
                while True:
                    now = self.clock()
                    wait = max(self._paused_until - now, self._next_slot - now)
                    if wait <= 0:
                        break
                    await asyncio.sleep(wait)
                if self.chat_ready_in(chat) > 0:     # another task for the same chat got in first
                    continue
                now = self.clock()
                # strict spacing; a short idle gap does not build up a burst
                self._next_slot = max(self._next_slot, now) + 1.0 / self.rate
                self._chat_next[chat] = now + self.per_chat
                if len(self._chat_next) > 50_000:
                    self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}
                return

    def sent(self, chat: str) -> None:
        """A call to `chat` just ended: its next one waits the gap from now (acquire() reserved the gap
        from its own moment, but the commit before the call can delay the call past that)."""
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), self.clock() + self.per_chat)

    async def gate(self) -> None:
        """Right before the network call: never more than ~`rate` calls in any 1-second window.

        acquire() spaces the slots, but the work between a slot and the call (a database write)
        can bunch calls together; this hard cap keeps the provider's sliding window satisfied."""
        while True:
            now = self.clock()
            while self._calls and self._calls[0] <= now - 1.0:
                self._calls.popleft()
            if len(self._calls) < self._cap:
                self._calls.append(now)
                return
            await asyncio.sleep(self._calls[0] + 1.0 - now + 0.001)
