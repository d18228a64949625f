"""Per-update context handed to handlers: session, user, identity, services, helpers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import Incoming, Reply
from core.templates import render
from storage.models import Conversation, Identity, User, utcnow

if TYPE_CHECKING:  # pragma: no cover
    from core.app import Core


@dataclass
class Ctx:
    core: "Core"
    session: AsyncSession
    user: User
    identity: Identity
    msg: Incoming
    conv_absent: bool = False     # touch() found no conversation row: get_flow needs no query

    # --- conveniences ---------------------------------------------------------------------
    @property
    def settings(self):
        return self.core.settings

    @property
    def services(self) -> dict[str, Any]:
        return self.core.services

    @property
    def channel(self) -> str:
        return self.identity.channel

    @property
    def is_admin(self) -> bool:
        return f"{self.identity.channel}:{self.identity.external_id}" in self.settings.admin_ids

    def today(self) -> date:
        return self.core.today()

    def now(self) -> datetime:
        return utcnow()

    def render(self, template: str, /, **kw) -> str:
        return render(template, **kw)

    def reply(self, template: str, /, buttons=None, **kw) -> Reply:
        return Reply(render(template, **kw), buttons or [])

    # --- guided-flow state (one active flow per user, stored in the DB) -------------------
    async def get_flow(self) -> Conversation | None:
        if self.conv_absent:
            return None
        return await self.session.get(Conversation, self.user.id)   # identity map: no query if loaded

    async def set_flow(self, flow: str, step: str = "", data: dict | None = None) -> Conversation:
        conv = await self.session.get(Conversation, self.user.id)
        if conv is None:
            conv = Conversation(user_id=self.user.id, flow=flow, step=step, data=data or {})
            self.session.add(conv)
        else:
            conv.flow, conv.step, conv.data = flow, step, dict(data or {})
        conv.updated_at = utcnow()
        await self.session.flush()
        self.conv_absent = False
        return conv

    async def clear_flow(self) -> bool:
        if self.conv_absent:
            return False
        res = await self.session.execute(delete(Conversation).where(Conversation.user_id == self.user.id))
        self.conv_absent = True
        return bool(res.rowcount)

    # --- messages to other people go through the delivery path ----------------------------
    async def send_to_user(self, user_id: int, reply: Reply, key: str, kind: str = "notice") -> bool:
        from delivery.queue import enqueue_user
        return await enqueue_user(self.session, user_id, reply, key=key, kind=kind)

    async def identities_of(self, user_id: int) -> list[Identity]:
        rows = await self.session.scalars(select(Identity).where(Identity.user_id == user_id))
        return list(rows)
