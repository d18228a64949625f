"""The channel-neutral bot: one `handle(Incoming) -> list[Reply]` used by every channel."""
from __future__ import annotations

import json
import logging
import re
import time
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from core import clock
from core.config import Settings
from core.context import Ctx
from core.messages import Incoming, Reply
from core.ops import metrics
from core.router import Router, as_list
from core.templates import render
from core.text import clean_input
from storage.db import make_engine, make_sessionmaker
from storage.group_commit import GroupCommit

log = logging.getLogger("ocop.update")

MAX_TEXT = 4000          # longer messages are refused politely and change nothing
MAX_CALLBACK = 64
NOT_A_QUESTION = re.compile(r"[\d\s.,:/+-]*\d[\d\s.,:/+-]*")     # bare numbers and dates


class Core:
    def __init__(self, settings: Settings, engine: AsyncEngine | None = None,
                 router: Router | None = None, services: dict[str, Any] | None = None):
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.writes = GroupCommit(self.engine)
        if router is None:
            from handlers import build_router
            router = build_router()
        self.router = router
        self.services: dict[str, Any] = services if services is not None else {}

    def today(self) -> date:
        return clock.today(self.settings.tz)

    async def close(self) -> None:
        await self.writes.close()
        await self.engine.dispose()

    # ------------------------------------------------------------------------------------
    async def handle(self, msg: Incoming) -> list[Reply]:
        """Process one incoming message; never raises (a failure becomes a polite apology)."""
        started = time.perf_counter()
        route = "?"
        try:
            _clean(msg)
            if len(msg.text) > MAX_TEXT:
                route = "too_long"
                return [Reply(render("errors/too_long", limit=MAX_TEXT))]
            if msg.callback and (len(msg.callback.encode()) > MAX_CALLBACK or ":" not in msg.callback):
                route = "bad_callback"
                return [Reply(render("errors/stale_button"))]
            # who wrote, which flow they are in; the interaction is committed (batched with
            # other updates arriving together) before the handler runs, so a failure keeps it
            snap = await self.writes.touch(msg)
            if snap is None:            # this very update was handled already (another poller, a re-delivery)
                route = "duplicate"
                return []
            user_id = snap.user["id"]
            ctx = Ctx(self, msg=msg, conv_absent=snap.conversation is None, snapshot=snap)
            try:
                route, replies = await self._route(ctx, msg)
                await ctx.finish()
                return as_list(replies)
            except Exception:
                # everything the handler did is rolled back
                log.exception("handler failed route=%s channel=%s user=%s", route, msg.channel, user_id)
                route = f"error:{route}"
                return [Reply(render("errors/internal"))]
            finally:
                await ctx.close()
        except Exception:
            log.exception("update failed channel=%s", msg.channel)
            route = "error"
            return [Reply(render("errors/internal"))]
        finally:
            elapsed = time.perf_counter() - started
            metrics.observe_update(msg.channel, route, elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(json.dumps({"ev": "update", "channel": msg.channel, "user": msg.user_key,
                                     "route": route, "ms": round(elapsed * 1000, 2)}))

    async def _route(self, ctx: Ctx, msg: Incoming):
        r = self.router
        if msg.callback:
            ns = msg.callback.split(":", 1)[0]
            handler = r.callbacks.get(ns)
            if handler is None:
                return "cb:unknown", Reply(render("errors/stale_button"))
            return f"cb:{ns}", await handler(ctx, msg)
        if msg.command:
            handler = r.commands.get(msg.command)
            if handler is None:
                return "cmd:unknown", await r.unknown_command(ctx, msg)
            conv = await ctx.get_flow()
            if conv is not None and r.command_leaves_flow(msg.command, conv.flow):
                await ctx.clear_flow()      # another feature's command: later text must not reach the old flow
            return f"cmd:{msg.command}", await handler(ctx, msg)
        if (msg.contact_phone or msg.contact_not_own) and r.contact:
            return "contact", await r.contact(ctx, msg)
        if msg.file and r.file:
            return "file", await r.file(ctx, msg)
        conv = await ctx.get_flow()
        if conv is not None and conv.flow in r.flows:
            return f"flow:{conv.flow}", await r.flows[conv.flow](ctx, msg)
        if not msg.text:
            return "empty", Reply(render("errors/unsupported"))
        if r.not_a_question and NOT_A_QUESTION.fullmatch(msg.text):
            return "not_a_question", await r.not_a_question(ctx, msg)    # "2", "05-03-2024": no flow asked
        return "text", await r.text(ctx, msg)


def _clean(msg: Incoming) -> None:
    """What a person sends is stored: text, name, button data lose control characters and unpaired
    surrogates (PostgreSQL refuses NUL and both databases refuse surrogates)."""
    msg.text = clean_input(msg.text)
    msg.display_name = clean_input(msg.display_name)[:200]
    msg.callback = clean_input(msg.callback)
    msg.contact_phone = clean_input(msg.contact_phone)
    if msg.file is not None:
        msg.file.filename = clean_input(msg.file.filename) or "tep"
