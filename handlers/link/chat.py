"""/lienket: one person, one account on Telegram and Zalo (optional).

/lienket on one channel gives a one-time code (table codes, purpose "link", 30 minutes) and waits
for a code; typing "/lienket CODE" (or just the code while waiting) on the other channel merges
the two users (handlers.link_merge), audited. When the person's verified phone number matches
exactly one user on the other channel, that account also gets a confirmation button (through
the delivery path) that does the same as typing the code there.
"""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update

from core.messages import Button, Incoming, Reply
from core.templates import label
from handlers.link.merge import merge_users
from storage.models import AuditLog, Code, Conversation, Identity, User

FLOW = "lienket"
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"      # no 0/O, 1/I
CODE_LEN = 6
VALID = timedelta(minutes=30)
CODE_RE = re.compile(rf"^[{ALPHABET}]{{{CODE_LEN}}}$")
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "dòng lệnh"}



def normalise(text: str) -> str:
    t = re.sub(r"[\s\-]", "", text or "").upper()
    return t[len("LINK_"):] if t.startswith("LINK_") else t


def _other(channel: str) -> str:
    return {"telegram": "Zalo", "zalo": "Telegram"}.get(channel, "kênh kia")


async def _channels(ctx, user_id: int) -> set[str]:
    return set(await ctx.session.scalars(select(Identity.channel).where(Identity.user_id == user_id)))


async def _new_code(ctx, ref: dict) -> str:
    for _ in range(10):
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))
        if await ctx.session.get(Code, code) is None:
            ctx.session.add(Code(code=code, purpose="link", user_id=ctx.user.id, ref=ref,
                                 expires_at=ctx.now() + VALID))
            await ctx.session.flush()
            return code
    raise RuntimeError("could not draw a free link code")


async def _phone_peer(ctx) -> User | None:
    """The one other user with the same phone whose channels are all different from ours."""
    if not ctx.user.phone:
        return None
    peers = list(await ctx.session.scalars(select(User).where(User.phone == ctx.user.phone, User.id != ctx.user.id)))
    mine = await _channels(ctx, ctx.user.id)
    peers = [p for p in peers if (theirs := await _channels(ctx, p.id)) and not theirs & mine]
    return peers[0] if len(peers) == 1 else None


async def lienket(ctx, msg: Incoming):
    """/lienket: get a code; /lienket CODE: use a code made on the other channel."""
    if msg.arg_text:
        await ctx.clear_flow()
        return await redeem(ctx, msg.arg_text, via="code")
    peer = await _phone_peer(ctx)
    code = await _new_code(ctx, {"channel": ctx.channel, "phone_peer": peer.id if peer else None})
    if peer is not None:
        confirm = ctx.reply("link/confirm",
                            [[Button(label("link.accept"), f"lk:ok:{code}")],
                             [Button(label("link.decline"), f"lk:no:{code}")]],
                            other=CHANNEL_NAMES.get(ctx.channel, ctx.channel))
        await ctx.send_to_user(peer.id, confirm, key=f"link:{code}", kind="notice")
    await ctx.set_flow(FLOW, "code", {})
    deeplink = (f"https://t.me/{ctx.settings.bot_username.lstrip('@')}?start=link_{code}"
                if ctx.channel != "telegram" and ctx.settings.bot_username else "")
    return ctx.reply("link/code", code=code, other=_other(ctx.channel), minutes=int(VALID.total_seconds() // 60),
                     phone_peer=peer is not None, deeplink=deeplink)


async def on_text(ctx, msg: Incoming):
    """While waiting: a code-shaped text is redeemed; anything else leaves the step (it is a question)."""
    if CODE_RE.match(normalise(msg.text)):
        return await redeem(ctx, msg.text, via="code")
    await ctx.clear_flow()
    return await ctx.router.text(ctx, msg)


async def on_deeplink(ctx, msg: Incoming):
    """/start link_CODE (a Telegram link shown on Zalo)."""
    await ctx.clear_flow()
    return await redeem(ctx, msg.args[0] if msg.args else "", via="code")


async def on_callback(ctx, msg: Incoming):
    """lk:ok:CODE / lk:no:CODE on the confirmation sent to the phone-matched account."""
    _, action, code = (msg.callback.split(":", 2) + ["", ""])[:3]
    if action == "ok":
        return await redeem(ctx, code, via="phone")
    row = await ctx.session.get(Code, normalise(code))
    if (row is not None and row.purpose == "link" and row.used_at is None
            and (row.ref or {}).get("phone_peer") == ctx.user.id):     # only the account it was sent to
        row.used_at = ctx.now()
        ctx.session.add(AuditLog(actor_user_id=ctx.user.id, action="link_declined", detail={"code_user": row.user_id}))
    return ctx.reply("link/declined")


async def redeem(ctx, text: str, *, via: str) -> Reply:
    code = normalise(text)
    row = await ctx.session.get(Code, code) if CODE_RE.match(code) else None
    status = ("unknown" if row is None or row.purpose != "link" else
              "used" if row.used_at is not None else
              "expired" if row.expires_at and row.expires_at < ctx.now() else
              "self" if row.user_id == ctx.user.id else "")
    if not status and (row.user_id is None or await _channels(ctx, row.user_id) & await _channels(ctx, ctx.user.id)):
        status = "same_channel"          # one account per channel and person
    if status:
        if status == "unknown" and (await ctx.get_flow()) is not None:
            return ctx.reply("link/error", status=status, code=code[:12], waiting=True)
        await ctx.clear_flow()
        return ctx.reply("link/error", status=status, code=code[:12], waiting=False, other=_other(ctx.channel))
    used = await ctx.session.execute(update(Code).where(Code.code == code, Code.used_at.is_(None))
                                     .values(used_at=ctx.now()).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return ctx.reply("link/error", status="used", code=code, waiting=False, other=_other(ctx.channel))
    await ctx.clear_flow()
    issuer, me = row.user_id, ctx.user.id
    keep, gone = min(issuer, me), max(issuer, me)
    moved = await merge_users(ctx.session, keep, gone)
    await ctx.session.execute(delete(Conversation).where(Conversation.user_id == keep, Conversation.flow == FLOW))
    channels = sorted(await _channels(ctx, keep))
    ctx.session.add(AuditLog(actor_user_id=keep, action="link_accounts",
                             detail={"kept_user": keep, "merged_user": gone, "via": via, "channels": channels,
                                     "moved": moved}))
    return ctx.reply("link/done", channels=[CHANNEL_NAMES.get(c, c) for c in channels])


def register(router) -> None:
    router.command("lienket", lienket, "Liên kết tài khoản Telegram và Zalo")
    router.flow(FLOW, on_text)
    router.callback("lk", on_callback)
    router.deeplink("link", on_deeplink)
