"""/capquyen and /thuhoiquyen (admins only): grant or revoke the officer role; /maso shows one's id."""
from __future__ import annotations

from sqlalchemy import select

from core.context import Ctx
from core.messages import Incoming, Reply
from core.reference import match_province
from core.text import fold, parse_id
from core.audit import audit
from core.permissions import province_name, require_admin
from core.templates import render
from storage.models import Identity, Role, User, utcnow

NATIONAL_WORDS = {"toan quoc", "quoc gia", "trung uong", "tw", "ca nuoc"}


async def find_user(session, token: str, channel: str) -> User | None:
    """'u12' (user id), 'telegram:123', '0912…'/'+84…' (phone) or a bare id on the admin's channel."""
    token = token.strip()
    if token[:1] in "u#" and token[1:].isdigit():
        uid = parse_id(token[1:])
        return await session.get(User, uid) if uid else None
    if token[:1] in "0+" and token.lstrip("+").isdigit():
        digits = token.lstrip("+")
        phones = {token, digits, "0" + digits[2:] if digits.startswith("84") else "84" + digits[1:]}
        return await session.scalar(select(User).where(User.phone.in_(phones)).limit(1))
    chan, _, ext = token.rpartition(":")
    ident = await session.scalar(select(Identity).where(Identity.channel == (chan or channel),
                                                        Identity.external_id == ext))
    return await session.get(User, ident.user_id) if ident else None


def parse_scope(text: str):
    """'Đồng Tháp' -> (ProvinceMatch, ''), 'toàn quốc' -> (None, ''), bad -> (None, error)."""
    if fold(text) in NATIONAL_WORDS:
        return None, ""
    m = match_province(text) if text.strip() else None
    if m is None:
        return None, "bad"
    return m, ""


def user_label(user: User) -> str:
    return f"{user.display_name or 'Người dùng'} (u{user.id})"


async def grant(ctx: Ctx, msg: Incoming):
    """/capquyen <người> <tỉnh | toàn quốc>"""
    if deny := require_admin(ctx):
        return deny
    parts = msg.arg_text.split(maxsplit=1)
    if len(parts) < 2:
        return ctx.reply("roles/usage")
    target = await find_user(ctx.session, parts[0], ctx.channel)
    if target is None:
        return ctx.reply("roles/no_user", who=parts[0][:40])
    match, err = parse_scope(parts[1])
    if err:
        return ctx.reply("roles/bad_province", text=parts[1][:60])
    pid = match.province.id if match else None
    scope = province_name(pid) if pid else "toàn quốc"
    if await grant_role(ctx.session, ctx.user.id, target.id, pid) is None:
        return ctx.reply("roles/already", who=user_label(target), scope=scope)
    return ctx.reply("roles/granted", who=user_label(target), scope=scope,
                     note=match.note if match else "")


async def revoke(ctx: Ctx, msg: Incoming):
    """/thuhoiquyen <người> [tỉnh | toàn quốc] — without a scope every role of that person."""
    if deny := require_admin(ctx):
        return deny
    parts = msg.arg_text.split(maxsplit=1)
    if not parts:
        return ctx.reply("roles/usage")
    target = await find_user(ctx.session, parts[0], ctx.channel)
    if target is None:
        return ctx.reply("roles/no_user", who=parts[0][:40])
    q = select(Role).where(Role.user_id == target.id, Role.revoked_at.is_(None))
    if len(parts) > 1:
        match, err = parse_scope(parts[1])
        if err:
            return ctx.reply("roles/bad_province", text=parts[1][:60])
        q = q.where(Role.province.is_(None) if match is None else Role.province == match.province.id)
    roles = await revoke_roles(ctx.session, ctx.user.id, target.id, q)
    if not roles:
        return ctx.reply("roles/none", who=user_label(target))
    scopes = ", ".join(province_name(r.province) if r.province else "toàn quốc" for r in roles)
    return ctx.reply("roles/revoked", who=user_label(target), scope=scopes)


async def grant_role(session, admin_id: int, target_id: int, pid: str | None) -> Role | None:
    """Grant the officer role for province id `pid` (None = national), audited, the person told through
    the delivery path; None when they hold it already. Used by /capquyen and the console's «Cán bộ»."""
    from delivery.queue import enqueue_user
    existing = await session.scalar(select(Role).where(
        Role.user_id == target_id, Role.revoked_at.is_(None), Role.role == "officer",
        Role.province.is_(None) if pid is None else Role.province == pid))
    if existing:
        return None
    role = Role(user_id=target_id, role="officer", province=pid, granted_by=admin_id, granted_at=utcnow())
    session.add(role)
    await session.flush()
    await audit(session, admin_id, "role.grant", target_user_id=target_id, province=pid, role_id=role.id)
    scope = province_name(pid) if pid else "toàn quốc"
    await enqueue_user(session, target_id, Reply(render("roles/granted_notice", scope=scope)),
                       key=f"role:{role.id}:granted", kind="notice")
    return role


async def revoke_roles(session, admin_id: int, target_id: int, query=None) -> list[Role]:
    """Revoke the person's active roles matching `query` (default: all), audited. -> the roles revoked."""
    q = query if query is not None else select(Role).where(Role.user_id == target_id, Role.revoked_at.is_(None))
    roles = list(await session.scalars(q))
    if not roles:
        return []
    now = utcnow()
    for r in roles:
        r.revoked_at = now
    await audit(session, admin_id, "role.revoke", target_user_id=target_id,
                role_ids=[r.id for r in roles], provinces=[r.province for r in roles])
    return roles


async def my_id(ctx: Ctx, msg: Incoming):
    """/maso: the codes an admin needs to grant this person a role."""
    return ctx.reply("roles/my_id", user_id=ctx.user.id, key=f"{ctx.channel}:{ctx.identity.external_id}")


def register(router) -> None:
    router.command("capquyen", grant)
    router.command("thuhoiquyen", revoke)
    router.command("maso", my_id, keeps_flow=True)
