"""Per-update context handed to handlers: session, user, identity, services, helpers."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Awaitable

from sqlalchemy import delete, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import Incoming, Reply
from core.templates import render, reply
from storage.models import Conversation, Identity, User, utcnow

if TYPE_CHECKING:  # pragma: no cover
    from core.app import Core
    from storage.group_commit import Snapshot


class _Flushed:
    """The id of a row added to a session: flushed when awaited (else committed with the session)."""

    def __init__(self, session: AsyncSession, obj):
        self.session, self.obj = session, obj

    def __await__(self):
        yield from self.session.flush().__await__()
        return self.obj.id


class Ctx:
    """What a handler works with. The database session and the person's ORM objects are made on first
    use: a command that only reads the person's own row (like /start) needs neither a session nor a
    transaction beyond the batched interaction record (storage.group_commit)."""

    def __init__(self, core: "Core", session: AsyncSession | None = None, user: User | None = None,
                 identity: Identity | None = None, msg: Incoming | None = None, *,
                 conv_absent: bool = False, snapshot: "Snapshot | None" = None):
        self.core = core
        self.msg = msg
        self.conv_absent = conv_absent    # no conversation row: get_flow needs no query
        self._session = session
        self._user, self._identity = user, identity
        self._snapshot = snapshot

    @property
    def session(self) -> AsyncSession:
        """The update's session (one transaction, committed when the handler returns)."""
        return self._session if self._session is not None else self._open_session()

    def _open_session(self) -> AsyncSession:
        self._session = self.core.sessionmaker()
        if self._snapshot is not None:          # the person's rows join it, with any changes made so far
            user, identity, _conv = self._snapshot.attach(self._session, self._user, self._identity)
            self._user, self._identity = user, identity
        return self._session

    @property
    def user_id(self) -> int:
        """The person's id, without making their User object (a handler that only logs)."""
        return self._snapshot.user["id"] if self._user is None and self._snapshot is not None else self.user.id

    @property
    def user(self) -> User:
        if self._user is None:
            self._user = self._snapshot.user_object()
        return self._user

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = self._snapshot.identity_object()
        return self._identity

    async def finish(self) -> None:
        """Commit the handler's work: the session if one was opened, or changes made to the person."""
        if self._session is None and any(o is not None and inspect(o).modified
                                         for o in (self._user, self._identity)):
            self._open_session()                # attaches the changed objects
        if self._session is not None:
            await self._session.commit()

    async def close(self) -> None:
        """Roll back whatever was not committed and release the connection."""
        if self._session is not None:
            await self._session.close()

    # --- conveniences ---------------------------------------------------------------------
    @property
    def settings(self):
        return self.core.settings

    @property
    def services(self) -> dict[str, Any]:
        return self.core.services

    @property
    def router(self):
        """The registered features (commands, flows, menu, deep links, the free-text handler)."""
        return self.core.router

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
        """The template rendered as a Reply carrying its id and data (see core.templates.reply)."""
        return reply(template, buttons, **kw)

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

    def record(self, model, /, with_id: bool = False, **values) -> Awaitable[int | None]:
        """Insert an append-only record (e.g. a FaqLog row); await the result only for its id
        (`with_id`: only then is the id returned, which costs the group commit a statement per row
        on SQLite).

        Before this update opened its own session, the row goes with the next group commit
        (storage.group_commit) without the update waiting for it: kept even if the handler fails
        later (on SQLite: await it before this update writes, if at all). Once the update has a
        session it joins that transaction instead (on SQLite the group commit would wait for the
        write lock that very transaction may hold).
        """
        if self._session is None:
            return self.core.writes.insert(model.__table__, values, with_id)
        obj = model(**values)
        self._session.add(obj)
        return _Flushed(self._session, obj)

    # --- messages to other people go through the delivery path ----------------------------
    async def send_to_user(self, user_id: int, reply: Reply, key: str, kind: str = "notice") -> bool:
        from delivery.queue import enqueue_user
        return await enqueue_user(self.session, user_id, reply, key=key, kind=kind)
