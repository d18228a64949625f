"""Who may do officer work, and for which provinces.

Admins come from settings.admin_ids (ctx.is_admin) and have national scope. Officers come from
active rows in `roles` (revoked_at IS NULL): province NULL = national, otherwise that province
(stored as a province id such as "dong_thap"). Handlers call `require_officer(ctx)` first:
it returns a polite refusal Reply (and nothing else happens) or None.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.messages import Reply
from core.reference import province_id_of, province_name  # noqa: F401  (the one province API)
from core.templates import render
from storage.models import Role


@dataclass(frozen=True)
class Scope:
    national: bool
    provinces: frozenset[str] = frozenset()    # province ids (empty when national)
    admin: bool = False

    def allows(self, province_id: str | None) -> bool:
        """May this officer act for `province_id` (None = not tied to a province)?"""
        if self.national:
            return True
        return province_id is not None and province_id in self.provinces

    def allows_all(self, province_ids) -> bool:
        return all(self.allows(p) for p in province_ids)

    def label(self) -> str:
        if self.national:
            return "toàn quốc"
        return ", ".join(province_name(p) for p in sorted(self.provinces))


async def roles_of(session, user_id: int) -> list[Role]:
    rows = await session.scalars(select(Role).where(Role.user_id == user_id, Role.revoked_at.is_(None),
                                                    Role.role == "officer"))
    return list(rows)


async def officer_scope(ctx) -> Scope | None:
    """The caller's scope, or None for a producer."""
    if ctx.is_admin:
        return Scope(national=True, admin=True)
    roles = await roles_of(ctx.session, ctx.user.id)
    if not roles:
        return None
    if any(r.province is None for r in roles):
        return Scope(national=True)
    return Scope(national=False, provinces=frozenset(r.province for r in roles))


async def is_officer(ctx) -> bool:
    return await officer_scope(ctx) is not None


async def require_officer(ctx) -> Reply | None:
    """None when the caller is an officer or admin; otherwise the polite refusal to return."""
    if await officer_scope(ctx) is not None:
        return None
    return Reply(render("officer/not_allowed"))


async def scope_or_refusal(ctx) -> tuple[Scope | None, Reply | None]:
    """(scope, None) for officers and admins, (None, refusal) for everyone else."""
    scope = await officer_scope(ctx)
    return scope, None if scope is not None else Reply(render("officer/not_allowed"))


async def officer_flow(ctx):
    """For text inside an officer's guided flow: (scope, conversation, None), or (None, None, refusal)
    after leaving the flow (the role was revoked meanwhile)."""
    scope, refusal = await scope_or_refusal(ctx)
    if refusal:
        await ctx.clear_flow()
        return None, None, refusal
    return scope, await ctx.get_flow(), None


def callback_parts(data: str) -> tuple[str, str]:
    """'bc:cancel:12' -> ('cancel', '12'); 'bc:pre' -> ('pre', '')."""
    parts = data.split(":")
    return parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""


def require_admin(ctx) -> Reply | None:
    if ctx.is_admin:
        return None
    return Reply(render("officer/not_allowed", admin_only=True))


def refuse_province(pid: str | None) -> Reply:
    """An officer tried to act for a province outside their scope."""
    return Reply(render("officer/other_province", province=province_name(pid) or "không rõ"))
