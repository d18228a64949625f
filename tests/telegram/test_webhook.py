"""Webhook mode: setWebhook with the secret; wrong or missing secret -> 403 and nothing processed."""
from sqlalchemy import func, select

from storage.models import User
from tests.telegram.conftest import free_port, settle

CHAT = 777


async def users(rt) -> int:
    async with rt.core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(User))


async def test_webhook_secret_is_enforced(tg, start_bot):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    rt = await start_bot(webhook_url=url, webhook_secret="Secret_123-abc", http_host="127.0.0.1", http_port=port)
    assert tg.webhook == {"url": url, "secret_token": "Secret_123-abc"}
    assert "getupdates" not in {c[0] for c in tg.calls}                   # no polling in webhook mode

    update = tg.factory.command(CHAT, "start")
    assert await tg.post_webhook(url, update, secret="wrong") == 403
    assert await tg.post_webhook(url, update) == 403                      # header missing
    assert await tg.post_webhook(url, update, secret="Secret_123-abc"[:-1]) == 403
    assert await users(rt) == 0 and tg.sent == []

    assert await tg.post_webhook(url, update, secret="Secret_123-abc") == 200
    [m] = await settle(tg, CHAT, 0)
    assert "OCOP" in m.text and len(m.buttons()) == len(rt.core.router.menu)
    # Telegram re-delivering the same update does not process it twice
    assert await tg.post_webhook(url, update, secret="Secret_123-abc") == 200
    # updates pushed to the fake are delivered to our webhook with the secret header
    tg.push_text(CHAT, "/huongdan")
    out = await settle(tg, CHAT, 1)
    assert len(out) == 1 and "/huy" in out[0].text
    assert tg.webhook_deliveries[-1][1] == 200 and await users(rt) == 1
    assert tg.rejected() == []


async def test_webhook_rejects_garbage_and_generates_a_secret_when_unset(tg, start_bot):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook/tg"
    await start_bot(webhook_url=url, webhook_secret="", http_host="127.0.0.1", http_port=port)
    secret = tg.webhook["secret_token"]
    assert len(secret) >= 32
    assert await tg.post_webhook(url, tg.factory.command(CHAT, "start")) == 403
    from aiohttp import ClientSession
    async with ClientSession() as s:
        async with s.post(url, data=b"not json", headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as r:
            assert r.status == 400
    assert await tg.post_webhook(url, tg.factory.command(CHAT, "start"), secret=secret) == 200
    await settle(tg, CHAT, 0)
