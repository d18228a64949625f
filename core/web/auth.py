"""Sign-in by one-time link, database sessions, and who the signed-in person is (read every request).

- A link token is a `codes` row (purpose "weblogin", 10 minutes, single use: spent by one atomic UPDATE).
- A session is a `web_sessions` row keyed by the sha256 of the cookie value; it ends after 8 hours
  without a request or on logout. The role and province scope are read from the database on every
  request, so revoking an officer takes effect at once.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from core.permissions import province_name
from core.templates import web_text
from storage.models import Code, Identity, Role, User, WebSession, utcnow
from storage.users import aware

LOGIN_TTL = timedelta(minutes=10)
IDLE_TIMEOUT = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=1)        # last_seen_at is written at most this often
PURPOSE = "weblogin"
COOKIE = "ocop_console"


@dataclass(frozen=True)
class Viewer:
    """The signed-in officer as of this request."""
    user_id: int
    name: str
    admin: bool
    national: bool
    provinces: frozenset[str]      # province ids (as every table stores them); empty = all
    session_id: str = ""
    csrf: str = ""

    def allows(self, province: str | None) -> bool:
        """May this officer see `province` (a province id)?"""
        return self.national or (province or "") in self.provinces

    @property
    def names(self) -> list[str]:
        """The official names of the provinces in scope, sorted (what the pages show)."""
        return sorted(province_name(p) for p in self.provinces)

    @property
    def role_label(self) -> str:
        if self.admin:
            return web_text("roles.admin")
        return web_text("roles.national") if self.national else web_text("roles.provincial", provinces=", ".join(self.names))

    @property
    def scope_label(self) -> str:
        return web_text("roles.national_scope") if self.national else ", ".join(self.names)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def viewer_for(session, settings, user_id: int) -> Viewer | None:
    """The person's officer standing now, or None (not an officer or admin, or revoked)."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    keys = {f"{c}:{e}" for c, e in (await session.execute(
        select(Identity.channel, Identity.external_id).where(Identity.user_id == user_id))).all()}
    name = user.display_name or f"#{user.id}"
    if keys & set(settings.admin_ids):
        return Viewer(user_id, name, True, True, frozenset())
    roles = list(await session.scalars(select(Role).where(
        Role.user_id == user_id, Role.revoked_at.is_(None), Role.role.in_(("officer", "admin")))))
    if not roles:
        return None
    if any(r.province is None or r.role == "admin" for r in roles):
        return Viewer(user_id, name, False, True, frozenset())
    provs = frozenset(r.province for r in roles)
    return Viewer(user_id, name, False, False, provs)


async def user_by_identity(session, key: str) -> int | None:
    """'telegram:123' -> user id, or None."""
    channel, _, external = key.partition(":")
    if not external:
        channel, external = "telegram", channel
    return await session.scalar(select(Identity.user_id).where(Identity.channel == channel,
                                                               Identity.external_id == external))


async def create_login_token(session, user_id: int) -> str:
    now = utcnow()
    token = secrets.token_urlsafe(18)                        # 24 characters, 144 bits
    session.add(Code(code=token, purpose=PURPOSE, user_id=user_id, ref={}, expires_at=now + LOGIN_TTL,
                     created_at=now))
    await session.flush()
    return token


def login_url(settings, token: str) -> str:
    return f"{settings.base_url}/quantri/dang-nhap/{token}"


async def token_state(session, token: str) -> str:
    """'ok' | 'used' | 'expired' | 'unknown' — without spending it."""
    if not token or len(token) > 32:
        return "unknown"
    row = await session.get(Code, token)
    if row is None or row.purpose != PURPOSE:
        return "unknown"
    if row.used_at is not None:
        return "used"
    if row.expires_at is not None and aware(row.expires_at) <= utcnow():
        return "expired"
    return "ok"


async def spend_token(session, token: str) -> tuple[str, int | None]:
    """Use the link once (atomic): ('ok', user_id) or (state, None)."""
    now = utcnow()
    if not token or len(token) > 32:
        return "unknown", None
    res = await session.execute(update(Code).where(
        Code.code == token, Code.purpose == PURPOSE, Code.used_at.is_(None), Code.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        return await token_state(session, token), None
    return "ok", await session.scalar(select(Code.user_id).where(Code.code == token))


async def start_session(session, user_id: int) -> str:
    """A new session; returns the cookie value (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(id=_hash(raw), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, last_seen_at=now))
    await session.flush()
    return raw


async def load_session(session, raw: str | None) -> WebSession | None:
    """The live session for this cookie (touching it), or None when absent, ended or idle too long."""
    if not raw or len(raw) > 100:
        return None
    row = await session.get(WebSession, _hash(raw))
    now = utcnow()
    if row is None or row.ended_at is not None:
        return None
    if now - aware(row.last_seen_at) > IDLE_TIMEOUT:
        row.ended_at = now
        return None
    if now - aware(row.last_seen_at) > TOUCH_EVERY:
        row.last_seen_at = now
    return row


async def end_session(session, raw: str | None) -> None:
    row = await session.get(WebSession, _hash(raw)) if raw and len(raw) <= 100 else None
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
