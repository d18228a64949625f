"""ZNS (Zalo Notification Service, "ZBS Template Message"): template messages by phone number.

The only Zalo route to a producer who has not written to the OA in the last 7 days (channels.md
§C7). `POST {ZALO_ZNS_API_URL}/message/template` with the OA's rotating access token
(channels.zalo_tokens, the same row the OA chat uses) and `appsecret_proof` =
HMAC-SHA256(access_token, key=app secret). Body: phone in the 84… form, template_id,
template_data, tracking_id = the delivery key.

`ZnsSender` is the delivery-path sender for channel "zns": a delivery row's chat_id is the phone
(84…), its payload carries {"zns": {"kind", "template_id", "params"}}. Every §C7 error code maps to
one outcome (ERRORS below): next route, retry the same route at a given time, refusal recorded,
template error (admins alerted once), billing (ZNS paused, admins alerted).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import aiohttp

from channels.zalo_tokens import OATokens, TokenError
from delivery.outcome import SendResult
from storage.models import KeyValue, utcnow

log = logging.getLogger("ocop.zns")
CHANNEL = "zns"
PAUSE_KEY = "zns:paused_until"        # billing failed: no ZNS until then (or until zns-check passes)
QUOTA_KEY = "zns:quota_until"         # daily quota used up: no ZNS until then
PAUSE = timedelta(hours=24)
NIGHT_ENDS = time(8)                  # -133: retry from 08:00 local


@dataclass(frozen=True)
class ErrorRule:
    status: str      # SendResult status: unreachable | retry | refused | template_error | zns_paused
    reason: str      # call-list reason when the chain ends there
    label: str


ERRORS: dict[int, ErrorRule] = {
    -108: ErrorRule("unreachable", "bad_phone", "invalid phone number"),
    -118: ErrorRule("unreachable", "no_zalo", "phone has no Zalo account"),
    -119: ErrorRule("unreachable", "no_zalo", "account cannot receive ZNS"),
    -114: ErrorRule("unreachable", "no_zalo", "user cannot receive ZNS (other reason)"),
    -124: ErrorRule("retry", "token", "invalid access token"),
    -1241: ErrorRule("retry", "token", "invalid appsecret_proof"),
    -131: ErrorRule("template_error", "template_error", "template not approved"),
    -1121: ErrorRule("template_error", "template_error", "a template parameter is too long"),
    -1122: ErrorRule("template_error", "template_error", "a template parameter is missing"),
    -133: ErrorRule("retry", "night", "sending not allowed at night"),
    -134: ErrorRule("refused", "refused", "user has not answered the consent prompt"),
    -139: ErrorRule("refused", "refused", "user refused this kind of message"),
    -141: ErrorRule("refused", "refused", "user refused messages from this OA"),
    -144: ErrorRule("retry", "quota", "OA daily quota used up"),
    -1441: ErrorRule("template_error", "template_error", "monthly promotion quota (use a tag-2 template)"),
    -1471: ErrorRule("template_error", "template_error", "per-user promotion limit (use a tag-2 template)"),
    -115: ErrorRule("zns_paused", "billing", "no balance"),
    -137: ErrorRule("zns_paused", "billing", "billing failed"),
}


def zns_phone(phone: str | None) -> str | None:
    """'0912 345 678' / '+84912345678' -> '84912345678' (None when not a Vietnamese number)."""
    from handlers.products.claims import normalise_phone
    local = normalise_phone(phone)
    return "84" + local[1:] if local else None


def local_phone(zphone: str) -> str:
    return "0" + zphone[2:] if zphone.startswith("84") else zphone


def appsecret_proof(access_token: str, app_secret: str) -> str:
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def parse_hours(raw: str) -> tuple[time, time]:
    """'08:00-21:00' -> (08:00, 21:00); bad values -> the default."""
    try:
        a, b = (p.strip() for p in raw.split("-", 1))
        start, end = time.fromisoformat(a), time.fromisoformat(b)
        if start < end:
            return start, end
    except (ValueError, AttributeError):
        pass
    return time(8), time(21)


def next_allowed(now: datetime, tz, hours: str) -> datetime | None:
    """None when `now` is inside ZNS_HOURS (local), else the next start of those hours (UTC-aware)."""
    start, end = parse_hours(hours)
    local = now.astimezone(tz)
    if start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz)


def next_morning(now: datetime, tz, hours: str) -> datetime:
    """The next start of ZNS_HOURS strictly after today's (quota used up: tomorrow)."""
    start, _ = parse_hours(hours)
    local = now.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), start, tzinfo=tz)


class ZnsClient:
    """Thin HTTP client of the ZNS API (uses the OA token row; refreshes it once on -124/-1241)."""

    def __init__(self, settings, sessionmaker, http=None):
        self.settings = settings
        self._http = http
        self._own: aiohttp.ClientSession | None = None
        self.tokens = OATokens(sessionmaker, settings, http=lambda: self.http)

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is not None:
            return self._http
        if self._own is None or self._own.closed:
            self._own = aiohttp.ClientSession()
        return self._own

    async def close(self) -> None:
        if self._own is not None:
            await self._own.close()

    def _headers(self, token: str) -> dict:
        return {"access_token": token, "appsecret_proof": appsecret_proof(token, self.settings.zalo_oa_app_secret)}

    async def _call(self, method: str, path: str, **kw) -> dict:
        token = await self.tokens.access_token()
        data = await self._once(method, path, token, **kw)
        if int(data.get("error") or 0) in (-124, -1241):        # refresh the token once, then retry
            token = await self.tokens.refresh(bad=token)
            data = await self._once(method, path, token, **kw)
        return data

    async def _once(self, method: str, path: str, token: str, **kw) -> dict:
        async with self.http.request(method, f"{self.settings.zns_api_url}{path}", headers=self._headers(token),
                                     timeout=aiohttp.ClientTimeout(total=20), **kw) as resp:
            data = await resp.json(content_type=None)
        return data if isinstance(data, dict) else {"error": -1, "message": f"HTTP {resp.status}"}

    async def send_template(self, phone: str, template_id: str, params: dict, tracking_id: str) -> dict:
        return await self._call("POST", "/message/template", json={
            "phone": phone, "template_id": template_id, "template_data": params, "tracking_id": tracking_id[:48]})

    async def template_info(self, template_id: str) -> dict:
        return await self._call("GET", "/template/info/v2", params={"template_id": template_id})


class ZnsSender:
    """Delivery-path sender for channel 'zns' (reminders only: never broadcasts)."""

    max_rate = 10.0

    def __init__(self, settings, sessionmaker, http=None):
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.client = ZnsClient(settings, sessionmaker, http=http)

    async def close(self) -> None:
        await self.client.close()

    async def _marker(self, key: str) -> datetime | None:
        async with self.sessionmaker() as s:
            row = await s.get(KeyValue, key)
        if row is None:
            return None
        until = datetime.fromisoformat(row.value)
        return until if until > utcnow() else None

    async def _set_marker(self, key: str, until: datetime) -> None:
        from handlers.reach.consent import _insert
        value = until.isoformat()
        async with self.sessionmaker() as s, s.begin():
            stmt = _insert(s)(KeyValue).values(key=key, value=value)
            await s.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    async def send(self, chat_id: str, reply) -> SendResult:   # pragma: no cover - needs the payload
        return SendResult("failed", error="zns rows are sent with send_payload")

    async def send_payload(self, chat_id: str, payload: dict, key: str) -> SendResult:
        from handlers.reach import consent
        zns = payload.get("zns") or {}
        template_id, params = str(zns.get("template_id") or ""), dict(zns.get("params") or {})
        if not template_id:
            return SendResult("template_error", error="zns: no template configured for this reminder kind")
        if await self._marker(PAUSE_KEY):
            return SendResult("zns_paused", error="zns paused after a billing error (-115/-137)")
        state = await consent.state(self.sessionmaker, local_phone(chat_id))
        if state == "refused":
            return SendResult("refused", error="zns refused earlier for this phone")
        if state == "opted_out":
            return SendResult("opted_out", error="the producer opted out (/stop)")
        now = utcnow()
        wait = next_allowed(now, self.settings.tz, self.settings.zns_hours)
        if wait is not None:
            return SendResult("retry", error="zns: outside ZNS_HOURS", not_before=wait)
        quota = await self._marker(QUOTA_KEY)
        if quota is not None:
            return SendResult("retry", error="zns: daily quota used up (-144)", not_before=quota)
        try:
            data = await self.client.send_template(chat_id, template_id, params, key)
        except TokenError as exc:
            return SendResult("retry", error=f"zns token: {exc}"[:300])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            return SendResult("retry", error=f"zns network: {type(exc).__name__}: {exc}"[:300])
        code = int(data.get("error") or 0)
        if code == 0:
            return SendResult.ok(str((data.get("data") or {}).get("msg_id") or ""))
        return await self._on_error(code, str(data.get("message") or ""), chat_id, template_id, now, key)

    async def _on_error(self, code: int, message: str, phone: str, template_id: str, now, key: str = "") -> SendResult:
        from handlers.reach import alerts, consent
        rule = ERRORS.get(code)
        err = f"zns {code}: {rule.label if rule else message}"[:300]
        if rule is None:
            return SendResult("failed", error=err)
        tz, hours = self.settings.tz, self.settings.zns_hours
        if code == -133:                      # night rule: from 08:00 local (or ZNS_HOURS' start, if later)
            start = max(parse_hours(hours)[0], NIGHT_ENDS)
            at = datetime.combine(now.astimezone(tz).date(), start, tzinfo=tz)
            return SendResult("retry", error=err, not_before=at if at > now else at + timedelta(days=1))
        if code == -144:
            until = next_morning(now, tz, hours)
            await self._set_marker(QUOTA_KEY, until)
            return SendResult("retry", error=err, not_before=until)
        if rule.status == "refused":
            await consent.record_refusal(self.sessionmaker, local_phone(phone), code, key, err)
        elif rule.status == "template_error":
            await alerts.alert_admins(self.sessionmaker, self.settings, f"zns{code}:{template_id}", "reach/alert_template",
                                      code=code, label=rule.label, template_id=template_id)
        elif rule.status == "zns_paused":
            await self._set_marker(PAUSE_KEY, now + PAUSE)
            await alerts.alert_admins(self.sessionmaker, self.settings, f"zns{code}:{now.date().isoformat()}",
                                      "reach/alert_billing", code=code, label=rule.label)
        return SendResult(rule.status, error=err)


async def check_templates(settings, sessionmaker) -> list[dict]:
    """`bot.py zns-check`: GET /template/info/v2 for each configured template."""
    client = ZnsClient(settings, sessionmaker)
    out = []
    try:
        for kind, tid in (("cert", settings.zns_template_cert_expiry), ("round", settings.zns_template_round_deadline)):
            if not tid:
                out.append({"kind": kind, "template_id": "", "usable": False, "detail": "not configured"})
                continue
            try:
                data = await client.template_info(tid)
            except (TokenError, aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                out.append({"kind": kind, "template_id": tid, "usable": False, "detail": str(exc)[:200]})
                continue
            info = data.get("data") or {}
            status = str(info.get("status") or "")
            ok = int(data.get("error") or 0) == 0 and status == "ENABLE"
            params = [p.get("name") for p in info.get("listParams") or []]
            out.append({"kind": kind, "template_id": tid, "usable": ok, "status": status, "params": params,
                        "detail": "" if ok else str(data.get("message") or status)})
    finally:
        await client.close()
    return out
