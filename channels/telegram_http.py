"""PTB's networking backend on aiohttp (telegram.request.BaseRequest), instead of the default httpx.

aiohttp is already the bot's HTTP stack (webhooks, Zalo); PTB supports replacing its transport
through BaseRequest. Measured on the fake Bot API (bench/throughput.py), httpx's connection pool and
form encoding cost more per call than the whole core does for a command. Differences from
HTTPXRequest that a caller can see: bodies without files go as JSON (Telegram accepts JSON for every
method); there is no separate write timeout (aiohttp has none), so a request is also bounded as a
whole by the sum of its timeouts.
"""
from __future__ import annotations

import asyncio

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from core.ops import metrics


_DEFAULT = type(BaseRequest.DEFAULT_NONE)     # "the caller did not say": use this object's default


class AiohttpRequest(BaseRequest):
    def __init__(self, *, connection_pool_size: int = 64, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0):
        self._pool_size = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout,
                          "pool": pool_timeout}
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT}, skip_auto_headers=("Accept-Encoding",))

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(self, files: bool, **given) -> aiohttp.ClientTimeout:
        t = {k: (self._timeouts[k] if isinstance(v, _DEFAULT) else v) for k, v in given.items()}
        if files and isinstance(given["write"], _DEFAULT):
            t["write"] = self._media_write_timeout
        parts = [t["pool"], t["connect"], t["write"], t["read"]]
        total = None if any(p is None for p in parts) else sum(parts)
        connect = None if t["pool"] is None or t["connect"] is None else t["pool"] + t["connect"]
        return aiohttp.ClientTimeout(total=total, connect=connect, sock_connect=t["connect"],
                                     sock_read=t["read"])

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        kwargs: dict = {}
        if files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, part in files.items():
                filename, content, *rest = part
                form.add_field(name, content, filename=filename,
                               content_type=rest[0] if rest and rest[0] else "application/octet-stream")
            kwargs["data"] = form
        elif request_data is not None and request_data.parameters:
            kwargs["data"] = request_data.json_payload
            kwargs["headers"] = {"Content-Type": "application/json"}
        timeout = self._timeout(bool(files), read=read_timeout, write=write_timeout,
                                connect=connect_timeout, pool=pool_timeout)
        try:
            async with self._session.request(method, url, timeout=timeout, **kwargs) as resp:
                if resp.status == 429:
                    metrics.rate_limited("telegram")
                return resp.status, await resp.read()
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
