"""Officer-feature test helpers: people with roles, a recording sender, a worker (fixtures re-exported by tests/conftest.py)."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from core.messages import Reply
from delivery.outcome import SendResult
from delivery.senders import Senders
from delivery.worker import DeliveryWorker
from storage.models import Identity, Role, User
from tests.helpers import msg


class RecordingSender:
    """Stands in for a channel in tests that do not need HTTP: records sends and edits."""

    def __init__(self, blocked=(), fail=()):
        self.sent: list[tuple[str, str]] = []
        self.edits: list[tuple[str, str, str]] = []
        self.blocked = set(blocked)
        self.fail = set(fail)
        self._ids = itertools.count(1)

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        if chat_id in self.blocked:
            return SendResult("blocked", error="Forbidden: bot was blocked by the user", deactivate=True)
        if chat_id in self.fail:
            return SendResult("retry", error="500 Internal Server Error")
        self.sent.append((chat_id, reply.text))
        return SendResult.ok(str(next(self._ids)))

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> SendResult:
        self.edits.append((chat_id, message_id, reply.text))
        return SendResult.ok(message_id)

    def to(self, chat_id: str) -> list[str]:
        return [t for c, t in self.sent if c == chat_id]


@pytest.fixture
def sender():
    return RecordingSender()


@pytest.fixture
def make_worker():
    def make(core, sender, **kw):
        kw.setdefault("rate", 1000)
        kw.setdefault("per_chat_interval", 0)
        w = DeliveryWorker(core.sessionmaker, Senders(console=sender), **kw)
        core.services["worker"] = w
        return w
    return make


async def user_id_of(core, key: str) -> int:
    async with core.sessionmaker() as s:
        ident = await s.scalar(select(Identity).where(Identity.external_id == key))
        return ident.user_id


async def add_person(core, key: str, *, province: str | None = None, role: str | None = None,
                     name: str = "Nguyễn Văn A") -> int:
    """A user who pressed /start; role: None (producer), 'national' or a province id."""
    await core.handle(msg("/start", user=key, name=name))
    uid = await user_id_of(core, key)
    async with core.sessionmaker() as s, s.begin():
        u = await s.get(User, uid)
        u.province = province
        if role:
            s.add(Role(user_id=uid, role="officer", province=None if role == "national" else role))
    return uid
