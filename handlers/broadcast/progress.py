"""Broadcast progress: one message edited in place, the transition to 'done', the final report.

Runs as a delivery-worker after_batch hook (and as a periodic job), in whichever process sends.
The in-memory `_last` only avoids redundant edits; the truth is in the database.
"""
from __future__ import annotations

import logging
import time

from sqlalchemy import select, update

from handlers.broadcast import sending
from core.messages import Button, Reply
from core.templates import label, render
from delivery.queue import enqueue_user
from storage.models import Broadcast, Delivery, utcnow

log = logging.getLogger("ocop.broadcast")
EDIT_EVERY = 3.0     # seconds between edits of one progress message


class Progress:
    def __init__(self, sessionmaker, senders, edit_every: float = EDIT_EVERY, on_update=None):
        self.sessionmaker = sessionmaker
        self.senders = senders
        self.edit_every = edit_every
        self.on_update = on_update          # optional callback(bc, counts) e.g. terminal progress
        self._last: dict[int, tuple[str, float]] = {}

    async def tick(self) -> None:
        async with self.sessionmaker() as s, s.begin():
            await s.execute(update(Broadcast).where(Broadcast.status == "scheduled",
                                                    Broadcast.scheduled_at <= utcnow())
                            .values(status="running").execution_options(synchronize_session=False))
            live = list(await s.scalars(select(Broadcast).where(Broadcast.status == "running")))
        for bc in live:
            try:
                await self._one(bc)
            except Exception:
                log.exception("progress of broadcast %s", bc.id)

    async def _one(self, bc: Broadcast) -> None:
        async with self.sessionmaker() as s:
            c = await sending.counts(s, bc.id)
        summ = sending.summary(c)
        if self.on_update:
            self.on_update(bc, summ)
        finished = summ["pending"] == 0
        if finished:
            async with self.sessionmaker() as s, s.begin():
                per_channel = await sending.channel_status_counts(s, bc.id)
                res = await s.execute(update(Broadcast).where(Broadcast.id == bc.id, Broadcast.status == "running")
                                      .values(status="done", finished_at=utcnow(), counts=c, channel_counts=per_channel)
                                      .execution_options(synchronize_session=False))
                if not res.rowcount:
                    return
                bc.status = "done"
                if bc.created_by:
                    await enqueue_user(s, bc.created_by, report(bc, summ, sending.channel_outcomes(per_channel)),
                                       key=f"bc:{bc.id}:report", kind="notice")
        await self.edit(bc, c, force=finished)

    async def edit(self, bc: Broadcast, c: dict, force: bool = False) -> None:
        """Edit the officer's progress message when its text changed (at most every few seconds)."""
        text = sending.progress_text(bc, c)
        last_text, last_at = self._last.get(bc.id, ("", 0.0))
        now = time.monotonic()
        if text == last_text or (not force and now - last_at < self.edit_every):
            return
        async with self.sessionmaker() as s:
            row = await s.scalar(select(Delivery).where(Delivery.key == f"bc:{bc.id}:progress"))
        if row is None or row.status != "sent" or not row.provider_message_id:
            return
        sender = self.senders.for_channel(row.channel)
        if sender is None or not hasattr(sender, "edit"):
            return
        self._last[bc.id] = (text, now)
        await sender.edit(row.chat_id, row.provider_message_id, Reply(text))


def report(bc: Broadcast, summ: dict[str, int], per_channel: dict | None = None) -> Reply:
    buttons = [[Button(label("broadcast.failures_csv"), f"bc:csv:{bc.id}")]] if summ["blocked"] + summ["failed"] + summ["no_route"] else []
    return Reply(render("broadcast/report", id=bc.id, total=bc.total, channels=per_channel or {}, **summ), buttons)
