"""Connecting a Zalo Official Account (OAuth v4 with PKCE), see docs/zalo.md:

    python bot.py zalo-oa-auth --redirect-uri https://…      prints the link an OA admin opens
    python bot.py zalo-oa-token --code CODE                  exchanges the code, stores the tokens
    python bot.py zalo-oa-token --access AT --refresh RT     stores a pair obtained elsewhere
    python bot.py zalo-oa-token                              shows the stored token's state
The PKCE verifier waits in table kv between the two steps (valid 10 minutes, like the code).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import urlencode

PKCE_KEY = "zalo_oa:pkce"
PKCE_VALID = timedelta(minutes=10)


def add(sub) -> None:
    p = sub.add_parser("zalo-oa-auth", help="start connecting a Zalo Official Account (prints a link)")
    p.add_argument("--redirect-uri", required=True, help="the callback URL registered in the Zalo app")
    p.set_defaults(func=cmd_auth)
    p = sub.add_parser("zalo-oa-token", help="store / show the Zalo OA token pair")
    p.add_argument("--code", help="the code Zalo appended to the redirect URI")
    p.add_argument("--access", help="an access token obtained elsewhere (with --refresh)")
    p.add_argument("--refresh", help="its refresh token")
    p.set_defaults(func=cmd_token)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:64]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def _open(settings):
    from storage.db import make_engine, make_sessionmaker
    from storage.migrate import upgrade_async
    await upgrade_async(settings.database_url)
    engine = make_engine(settings.database_url)
    return engine, make_sessionmaker(engine)


def _check(settings) -> str:
    missing = [n for n, v in (("ZALO_OA_APP_ID", settings.zalo_oa_app_id),
                              ("ZALO_OA_APP_SECRET", settings.zalo_oa_app_secret)) if not v]
    return ", ".join(missing)


def cmd_auth(args, settings) -> int:
    if _check(settings):
        print(f"Thiếu cấu hình: {_check(settings)}")
        return 2
    return asyncio.run(_auth(args, settings))


async def _auth(args, settings) -> int:
    from storage.models import utcnow
    from storage.sql import put_value
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    value = json.dumps({"verifier": verifier, "state": state, "until": (utcnow() + PKCE_VALID).isoformat()})
    engine, sm = await _open(settings)
    try:
        async with sm() as s, s.begin():
            await put_value(s, PKCE_KEY, value)
    finally:
        await engine.dispose()
    query = urlencode({"app_id": settings.zalo_oa_app_id, "redirect_uri": args.redirect_uri,
                       "code_challenge": challenge, "state": state})
    print("Quản trị viên OA mở đường dẫn sau (trong 10 phút), chọn OA và bấm Cho phép:")
    print(f"{settings.zalo_oauth_url}/v4/oa/permission?{query}")
    print("Zalo chuyển tới redirect URI kèm ?code=…&oa_id=…; sau đó chạy:")
    print("  python bot.py zalo-oa-token --code <code>")
    return 0


def cmd_token(args, settings) -> int:
    if (args.code or args.access or args.refresh) and _check(settings):
        print(f"Thiếu cấu hình: {_check(settings)}")
        return 2
    if bool(args.access) != bool(args.refresh):
        print("Cần cả --access và --refresh.")
        return 2
    return asyncio.run(_token(args, settings))


async def _token(args, settings) -> int:
    from channels.zalo_tokens import OATokens, TokenError
    from storage.models import KeyValue, utcnow
    engine, sm = await _open(settings)
    try:
        tokens = OATokens(sm, settings)
        if args.code:
            async with sm() as s:
                row = await s.get(KeyValue, PKCE_KEY)
            pkce = json.loads(row.value) if row else None
            if pkce is None or pkce["until"] < utcnow().isoformat():
                print("Chưa có hoặc đã quá 10 phút kể từ bước zalo-oa-auth: chạy lại bước đó.")
                return 1
            try:
                await tokens.authorize(args.code.strip(), pkce["verifier"])
            except TokenError as exc:
                print(f"Zalo từ chối mã: {exc}")
                return 1
            async with sm() as s, s.begin():
                await s.delete(await s.get(KeyValue, PKCE_KEY))
        elif args.access:
            await tokens.replace(args.access.strip(), args.refresh.strip())
        row = await tokens.status()
    finally:
        await engine.dispose()
    if row is None:
        print("Chưa có token Zalo OA nào (chạy zalo-oa-auth rồi zalo-oa-token --code).")
        return 1
    print(f"Token Zalo OA: hết hạn lúc {row.access_expires_at:%Y-%m-%d %H:%M} UTC, "
          f"đã làm mới {row.version} lần; bot tự làm mới trước khi hết hạn.")
    return 0
