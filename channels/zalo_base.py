"""Zalo channel base: what both adapters share (ZALO_MODE "bot" | "oa"; factory in channels/__init__.py).

Shared here (both adapters):
- inbound: de-duplication in table processed_events (holds across restarts and instances),
  mapping of a typed number / label to the button's callback data using the choices last shown
  to that identity (table kv, key "zalo_choices:<identity id>"), then core.handle();
- outbound: render to plain text (channels.zalo_render), persist the shown choices, send chunk
  by chunk through the adapter's `send_text`;
- webhook work runs in background tasks so the HTTP answer is immediate.
Adapters implement `send_text(chat_id, text) -> SendResult` and, for proactive messages,
`precheck(chat_id) -> SendResult | None` (e.g. OA interaction window).
"""
from __future__ import annotations

import asyncio
import html
import json
import uuid
import logging
from datetime import timedelta

from sqlalchemy import delete, select, update

from channels.zalo_render import Choices, pick, render
from core.messages import Incoming, Reply
from core.templates import render as render_template
from core.text import html_to_plain
from delivery.outcome import SendResult
from storage.models import Identity, KeyValue, ProcessedEvent, utcnow
from storage.sql import put_value, upsert

log = logging.getLogger("ocop.zalo")
CHANNEL = "zalo"
EVENT_MEMORY = timedelta(days=7)        # how long a processed event id is remembered
PRUNE_EVERY = 6 * 3600


class ZaloSender:
    """Delivery-path sender for channel 'zalo' (broadcasts, reminders, officer answers)."""

    def __init__(self, channel: "ZaloChannelBase"):
        self.channel = channel

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        pre = await self.channel.precheck(chat_id)
        if pre is not None:
            return pre
        return await self.channel.send_replies(chat_id, [reply], remember=bool(reply.buttons))


class ZaloChannelBase:
    name = CHANNEL
    needs_http = False

    def __init__(self, runtime):
        self.runtime = runtime
        self.settings = runtime.settings
        self.core = runtime.core
        self.sessionmaker = runtime.core.sessionmaker
        self.sender = ZaloSender(self)
        self._tasks: set[asyncio.Task] = set()
        self._user_locks: dict[str, list] = {}          # user -> [lock, tasks using it]

    # --- adapter hooks ----------------------------------------------------------------------
    async def send_text(self, chat_id: str, text: str) -> SendResult:  # pragma: no cover
        raise NotImplementedError

    async def precheck(self, chat_id: str) -> SendResult | None:
        return None

    # --- background work --------------------------------------------------------------------
    def spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("zalo background task failed", exc_info=task.exception())

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every webhook event received so far has been processed (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            busy = {t for t in self._tasks if t.get_coro().__name__ != "_prune_forever"}
            if not busy:
                return
            await asyncio.wait(busy, timeout=max(0.01, end - loop.time()))

    async def stop_tasks(self) -> None:
        for t in [t for t in self._tasks if t.get_coro().__name__ == "_prune_forever"]:
            t.cancel()
        await self.wait_idle(5.0)
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def start_housekeeping(self) -> None:
        self.spawn(self._prune_forever())

    async def _prune_forever(self) -> None:
        while True:
            try:
                await self.prune_events()
            except Exception:
                log.exception("pruning processed_events failed")
            await asyncio.sleep(PRUNE_EVERY)

    async def prune_events(self, keep: timedelta = EVENT_MEMORY) -> int:
        """Forget event ids older than `keep` (Zalo retries within hours, not days)."""
        async with self.sessionmaker() as s, s.begin():
            res = await s.execute(delete(ProcessedEvent).where(ProcessedEvent.channel == CHANNEL,
                                                               ProcessedEvent.created_at < utcnow() - keep))
            return res.rowcount or 0

    # --- inbound ----------------------------------------------------------------------------
    async def claim_event(self, event_id: str) -> bool:
        """True the first time an event id is seen (any process, any restart)."""
        if not event_id:
            return True
        async with self.sessionmaker() as s, s.begin():
            res = await s.execute(upsert(s, ProcessedEvent, dict(channel=CHANNEL, event_id=event_id[:128]),
                                         key=["channel", "event_id"]))
            return (res.rowcount or 0) == 1

    async def process(self, msg: Incoming, event_id: str = "") -> list[Reply]:
        """One user message, in arrival order per user (webhook tasks run concurrently)."""
        entry = self._user_locks.setdefault(msg.user_key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                return await self._process(msg, event_id)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._user_locks[msg.user_key]

    async def _process(self, msg: Incoming, event_id: str) -> list[Reply]:
        """Dedup, numbered answer -> callback, core.handle, send the answer."""
        if not await self.claim_event(event_id):
            log.info("zalo duplicate event %s ignored", event_id)
            return []
        if msg.text and not msg.callback:
            choices = await self.load_choices(msg.chat_id)
            data = pick(msg.text, choices)
            if data:
                msg.callback, msg.text = data, ""
        replies = await self.core.handle(msg)
        await self.send_replies(msg.chat_id, replies, remember=True,
                                requeue_key=event_id or msg.message_id or uuid.uuid4().hex)
        return replies

    async def deactivate(self, user_key: str, reason: str) -> None:
        async with self.sessionmaker() as s, s.begin():
            await s.execute(update(Identity).where(Identity.channel == CHANNEL, Identity.external_id == user_key)
                            .values(active=False, inactive_reason=reason[:64]))

    # --- choices (DB) -----------------------------------------------------------------------
    async def _identity(self, session, chat_id: str) -> Identity | None:
        return await session.scalar(select(Identity).where(Identity.channel == CHANNEL, Identity.chat_id == chat_id)
                                     .order_by(Identity.last_interaction_at.desc()).limit(1))

    async def load_choices(self, chat_id: str) -> Choices | None:
        async with self.sessionmaker() as s:
            ident = await self._identity(s, chat_id)
            if ident is None:
                return None
            row = await s.get(KeyValue, f"zalo_choices:{ident.id}")
            return Choices.from_json(json.loads(row.value)) if row else None

    async def save_choices(self, chat_id: str, choices: Choices | None) -> None:
        async with self.sessionmaker() as s, s.begin():
            ident = await self._identity(s, chat_id)
            if ident is None:
                return
            value = json.dumps((choices or Choices()).to_json(), ensure_ascii=False)
            await put_value(s, f"zalo_choices:{ident.id}", value)

    # --- outbound ---------------------------------------------------------------------------
    async def send_replies(self, chat_id: str, replies: list[Reply], *, remember: bool,
                           requeue_key: str = "") -> SendResult:
        """Render and send; `remember` stores the shown choices (an answer without any clears them).

        A file goes as the file itself where the adapter can (`send_file`, the OA), otherwise as a
        download link. With `requeue_key` (answers to a user's message), what hits a temporary error
        is handed to the delivery path instead of being lost (the worker retries with backoff)."""
        outs, choices = render(replies)
        if remember:
            await self.save_choices(chat_id, choices)
        items: list = []                                 # texts, and Outgoing for a file
        for og in outs:
            items += og.texts
            if og.file_name:
                items.append(og)
        result = SendResult("failed", error="nothing to send")
        for i, item in enumerate(items):
            if isinstance(item, str):
                result = await self.send_text(chat_id, item)
            else:
                result = await self._send_file_item(chat_id, item)
            if result.status != "sent":
                log.warning("zalo send to %s: %s %s", chat_id, result.status, result.error)
                if result.status == "retry" and requeue_key:
                    await self._requeue(chat_id, [t if isinstance(t, str) else await self._file_text(chat_id, t)
                                                  for t in items[i:]], requeue_key)
                return result
        return result

    async def send_file(self, chat_id: str, file) -> SendResult | None:
        """The file itself; None when this adapter / this file cannot go as an attachment."""
        return None

    async def _send_file_item(self, chat_id: str, og) -> SendResult:
        result = await self.send_file(chat_id, og.file) if og.file is not None else None
        if result is None or result.status == "failed":      # not possible / refused: the link instead
            if result is not None:
                log.warning("zalo file %s to %s refused (%s): sending a link", og.file_name, chat_id, result.error)
            return await self.send_text(chat_id, await self._file_text(chat_id, og))
        if result.status == "sent" and og.file_caption:        # the file went; a lost caption is only logged
            caption = await self.send_text(chat_id, html_to_plain(render_template(
                "zalo/file_sent", filename=og.file_name, caption=og.file_caption)))
            if caption.status != "sent":
                log.warning("zalo caption of %s to %s: %s", og.file_name, chat_id, caption.error)
        return result

    async def _file_text(self, chat_id: str, og) -> str:
        """A file becomes a short-lived download link for this person (handlers/reach/files.py),
        or, without a public HTTP address, a note saying where to get it."""
        from handlers.reach.files import share_link
        url = ""
        if og.file is not None and self.settings.has_public_url:
            async with self.sessionmaker() as s, s.begin():
                ident = await self._identity(s, chat_id)
                url = await share_link(s, self.settings, ident.id if ident else None, og.file)
        if url:
            return html_to_plain(render_template("zalo/file_link", filename=og.file_name, caption=og.file_caption,
                                                 url=url))
        return html_to_plain(render_template("zalo/file_unavailable", filename=og.file_name, caption=og.file_caption))

    async def _requeue(self, chat_id: str, texts: list[str], key: str) -> None:
        from delivery.queue import enqueue_rows
        async with self.sessionmaker() as s, s.begin():
            ident = await self._identity(s, chat_id)
            if ident is None:
                return
            rows = [dict(key=f"zalo:reply:{key}:{i}"[:160], kind="answer", identity_id=ident.id, channel=CHANNEL,
                         chat_id=chat_id, payload=Reply(html.escape(t, quote=False)).to_payload())
                    for i, t in enumerate(texts)]
            await enqueue_rows(s, rows)
