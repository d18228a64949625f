"""Small HTTP probes of the services the bot depends on (used by `bot.py doctor` and the watch job).

Each returns what the service answered and never raises for network errors (ProbeError instead).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=10)


class ProbeError(Exception):
    """The service could not be reached (connection refused, DNS, timeout, not JSON)."""


@dataclass
class Answer:
    status: int
    data: dict = field(default_factory=dict)
    date: str = ""          # the HTTP Date header (a reference for the clock check)


async def _request(http: aiohttp.ClientSession, method: str, url: str, **kw) -> Answer:
    try:
        async with http.request(method, url, timeout=TIMEOUT, **kw) as resp:
            raw = await resp.read()
            try:
                import json
                data = json.loads(raw) if raw else {}
            except ValueError:
                data = {"_text": raw[:200].decode("utf-8", "replace")}
            return Answer(resp.status, data if isinstance(data, dict) else {"_value": data},
                          resp.headers.get("Date", ""))
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise ProbeError(f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__) from exc


async def telegram(http, settings, method: str) -> Answer:
    """Bot API `method` (getMe, getWebhookInfo) at TELEGRAM_API_URL."""
    return await _request(http, "GET", f"{settings.telegram_api_url}/bot{settings.telegram_token}/{method}")


async def zalo_bot(http, settings, method: str) -> Answer:
    return await _request(http, "POST", f"{settings.zalo_api_url}/bot{settings.zalo_bot_token}/{method}", json={})


async def zalo_oa_profile(http, settings, access_token: str) -> Answer:
    """GET /v2.0/oa/getoa (the OA's profile) with the access token: error 0 = the token works."""
    return await _request(http, "GET", f"{settings.zalo_oa_api_url}/v2.0/oa/getoa",
                          headers={"access_token": access_token})


async def zns_template_info(http, settings, access_token: str, template_id: str) -> Answer:
    """GET /template/info/v2?template_id= ; usable when data.status == "ENABLE" (channels.md §C7)."""
    return await _request(http, "GET", f"{settings.zns_api_url}/template/info/v2",
                          params={"template_id": template_id}, headers={"access_token": access_token})


async def healthz(http, base_url: str) -> Answer:
    return await _request(http, "GET", f"{base_url}/healthz")
