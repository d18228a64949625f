"""Files for Zalo users: a short-lived download link `/tep/<token>` served by the bot's own server.

The token is 32 random bytes (unguessable), bound to the one identity the file was made for, and
valid FILE_DAYS days; the file lives in table shared_files until then.
"""
from __future__ import annotations

import secrets
from datetime import timedelta, timezone

from sqlalchemy import delete, update

from storage.models import SharedFile, utcnow

FILE_DAYS = 7


async def share_link(session, settings, identity_id: int | None, file) -> str:
    token = secrets.token_urlsafe(32)
    session.add(SharedFile(token=token, identity_id=identity_id, filename=file.filename[:200],
                           mime=file.mime or "application/octet-stream", content=file.content,
                           expires_at=utcnow() + timedelta(days=FILE_DAYS)))
    await session.flush()
    return f"{settings.base_url}/tep/{token}"


async def fetch(session, token: str) -> SharedFile | None:
    row = await session.get(SharedFile, token) if token and len(token) <= 64 else None
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=timezone.utc)
    if expires <= utcnow():
        return None
    await session.execute(update(SharedFile).where(SharedFile.token == token)
                          .values(downloads=SharedFile.downloads + 1))
    return row


async def prune(session) -> int:
    res = await session.execute(delete(SharedFile).where(SharedFile.expires_at < utcnow()))
    return res.rowcount or 0
