"""Zalo OA OAuth tokens: stored in table oauth_tokens (name "zalo_oa"), refreshed under a DB lock.

Refresh tokens are single-use and rotate: every refresh returns a new pair that replaces the old
one atomically. The row is seeded once from ZALO_OA_ACCESS_TOKEN / ZALO_OA_REFRESH_TOKEN
(INSERT … ON CONFLICT DO NOTHING, so the environment never overwrites a rotated token).

Cross-process safety: a refresh runs inside one transaction that first UPDATEs the row (a row
lock on PostgreSQL, the database write lock on SQLite) and re-reads it. A second process blocks
on that UPDATE, then sees the new token (access token changed and still fresh) and uses it
instead of spending the old refresh token. `version` counts refreshes (compare-and-swap on write).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import aiohttp
from sqlalchemy import select, update

from storage.models import OAuthToken, utcnow
from storage.sql import upsert

log = logging.getLogger("ocop.zalo.oauth")
NAME = "zalo_oa"
REFRESH_BEFORE = timedelta(hours=1)        # refresh when less than this is left
SEED_LIFETIME = timedelta(hours=25)        # an access token from the environment: assume fresh
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class TokenError(Exception):
    """No usable access token (refresh refused or network down)."""




class OATokens:
    def __init__(self, sessionmaker, settings, http=None):
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._http = http                     # callable returning an aiohttp.ClientSession
        self._lock = asyncio.Lock()           # in-process; the DB lock covers other processes

    async def _seed(self) -> None:
        s = self.settings
        if not (s.zalo_oa_access_token or s.zalo_oa_refresh_token):
            raise TokenError("no Zalo OA token: set ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN")
        expires = utcnow() + SEED_LIFETIME if s.zalo_oa_access_token else EPOCH
        async with self.sessionmaker() as session, session.begin():
            await session.execute(upsert(session, OAuthToken, dict(
                name=NAME, access_token=s.zalo_oa_access_token, refresh_token=s.zalo_oa_refresh_token,
                access_expires_at=expires, version=0, updated_at=utcnow()), key=["name"]))

    async def _row(self) -> OAuthToken | None:
        async with self.sessionmaker() as session:
            return await session.scalar(select(OAuthToken).where(OAuthToken.name == NAME))

    async def access_token(self) -> str:
        """A valid access token, refreshing first when it expires within REFRESH_BEFORE."""
        row = await self._row()
        if row is None:
            await self._seed()
            row = await self._row()
        if row.access_expires_at - utcnow() > REFRESH_BEFORE:
            return row.access_token
        try:
            return await self.refresh(bad=row.access_token)
        except TokenError:
            if row.access_token and row.access_expires_at > utcnow():
                return row.access_token           # still valid for a while: use it, retry later
            raise

    async def refresh(self, bad: str) -> str:
        """Replace `bad` with a new access token (unless another process already did).

        A refresh that fails opens the admin incident zalo_token:oa (one message); the next
        successful refresh resolves it. Both happen after the token transaction has ended."""
        from core.ops import alerts
        try:
            token = await self._refresh(bad)
        except TokenError as exc:
            try:
                from core.templates import Markup, render
                await alerts.alert(self.sessionmaker, self.settings, "zalo_token", "oa",
                                   Markup(render("ops/zalo_token", error=str(exc)[:200])))
            except Exception:
                log.exception("could not record the Zalo token incident")
            raise
        try:
            await alerts.resolve(self.sessionmaker, "zalo_token", "oa")
        except Exception:
            log.exception("could not resolve the Zalo token incident")
        return token

    async def _refresh(self, bad: str) -> str:
        async with self._lock:
            async with self.sessionmaker() as session, session.begin():
                lock = await session.execute(update(OAuthToken).where(OAuthToken.name == NAME)
                                             .values(version=OAuthToken.version))
                if not lock.rowcount:
                    raise TokenError("oauth_tokens row missing")
                row = await session.scalar(select(OAuthToken).where(OAuthToken.name == NAME)
                                           .execution_options(populate_existing=True))
                if row.access_token != bad and row.access_expires_at - utcnow() > REFRESH_BEFORE:
                    return row.access_token       # refreshed meanwhile by someone else
                data = await self._exchange(row.refresh_token)
                res = await session.execute(
                    update(OAuthToken).where(OAuthToken.name == NAME, OAuthToken.version == row.version)
                    .values(access_token=data["access_token"], refresh_token=data["refresh_token"],
                            access_expires_at=utcnow() + timedelta(seconds=int(data.get("expires_in") or 90000)),
                            version=row.version + 1, updated_at=utcnow()))
                if res.rowcount != 1:        # cannot happen while we hold the lock
                    raise TokenError("oauth_tokens changed during refresh")
                log.info("zalo oa access token refreshed (version %s)", row.version + 1)
                return data["access_token"]

    async def _exchange(self, refresh_token: str) -> dict:
        if not refresh_token:
            raise TokenError("no refresh token stored: re-authorise the OA (docs/zalo.md)")
        return await self._post({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _post(self, form: dict) -> dict:
        """POST {ZALO_OAUTH_URL}/v4/oa/access_token (form, header secret_key) -> the new token pair."""
        s = self.settings
        http = self._http() if self._http else None
        own = http is None
        http = http or aiohttp.ClientSession()
        try:
            async with http.post(f"{s.zalo_oauth_url}/v4/oa/access_token",
                                 headers={"secret_key": s.zalo_oa_app_secret},
                                 data={"app_id": s.zalo_oa_app_id, **form},
                                 timeout=aiohttp.ClientTimeout(total=15)) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise TokenError(f"oauth network error: {exc}") from exc
        finally:
            if own:
                await http.close()
        if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
            log.error("zalo oa token request refused: %s — an OA admin must re-authorise (docs/zalo.md)", data)
            raise TokenError(f"oauth refused: {data}"[:300])
        return data

    async def authorize(self, code: str, code_verifier: str) -> dict:
        """First token pair from an OA admin's authorization code (OAuth v4 with PKCE); stored."""
        data = await self._post({"grant_type": "authorization_code", "code": code, "code_verifier": code_verifier})
        await self.replace(data["access_token"], data["refresh_token"], int(data.get("expires_in") or 90000))
        return data

    async def replace(self, access: str, refresh: str, expires_in: int = 90000) -> None:
        """Store a new token pair (re-authorisation), whatever the row held before."""
        expires = utcnow() + timedelta(seconds=expires_in)
        async with self._lock:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(upsert(
                    session, OAuthToken, dict(name=NAME, access_token=access, refresh_token=refresh,
                                              access_expires_at=expires, version=0, updated_at=utcnow()),
                    key=["name"], update={"access_token": access, "refresh_token": refresh,
                                          "access_expires_at": expires, "version": OAuthToken.version + 1,
                                          "updated_at": utcnow()}))

    async def status(self) -> OAuthToken | None:
        return await self._row()
