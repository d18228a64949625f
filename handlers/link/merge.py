"""Merge two users into one (a person linking their Telegram and Zalo accounts).

Everything that points at the merged user moves to the kept one, inside the caller's
transaction: identities, subscriptions (united), certificates (owner_user_id), flow answers
(the newer answer wins), the conversation, officer roles, questions, logs. Tables added later
are covered too: every column with a foreign key to users.id, or with one of the known
user-reference names, is rewritten. The merged user row is deleted at the end.
"""
from __future__ import annotations


from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Conversation, FlowAnswer, Identity, Subscription, User

USER_REF_NAMES = {"user_id", "owner_user_id", "actor_user_id", "created_by", "granted_by", "answered_by"}
SPECIAL = {"users", "subscriptions", "conversations", "flow_answers"}


def _user_columns():
    """(table, column) pairs that reference a user, outside the specially merged tables."""
    for table in Base.metadata.sorted_tables:
        if table.name in SPECIAL:
            continue
        for col in table.columns:
            fk_users = any(fk.column.table.name == "users" for fk in col.foreign_keys)
            if fk_users or col.name in USER_REF_NAMES:
                yield table, col



def _union(a: list | None, b: list | None) -> list:
    out = list(a or [])
    out += [x for x in (b or []) if x not in out]
    return out


async def _merge_subscription(s: AsyncSession, keep: int, gone: int) -> None:
    mine, theirs = await s.get(Subscription, keep), await s.get(Subscription, gone)
    if theirs is None:
        return
    if mine is None:
        await s.execute(update(Subscription).where(Subscription.user_id == gone).values(user_id=keep)
                        .execution_options(synchronize_session=False))
        s.expunge(theirs)
        return
    mine.province = mine.province or theirs.province
    mine.groups = _union(mine.groups, theirs.groups)
    mine.topics = _union(mine.topics, theirs.topics)
    mine.active = bool(mine.active or theirs.active)
    await s.delete(theirs)


async def _merge_flow_answers(s: AsyncSession, keep: int, gone: int) -> None:
    mine = {(a.flow, a.node): a for a in await s.scalars(select(FlowAnswer).where(FlowAnswer.user_id == keep))}
    for a in list(await s.scalars(select(FlowAnswer).where(FlowAnswer.user_id == gone))):
        other = mine.get((a.flow, a.node))
        if other is None:
            a.user_id = keep
            continue
        if a.updated_at and other.updated_at and a.updated_at > other.updated_at:
            other.value = a.value
        await s.delete(a)
    await s.flush()


async def _merge_conversation(s: AsyncSession, keep: int, gone: int) -> None:
    if await s.get(Conversation, keep) is None:
        await s.execute(update(Conversation).where(Conversation.user_id == gone).values(user_id=keep)
                        .execution_options(synchronize_session=False))
    else:
        await s.execute(delete(Conversation).where(Conversation.user_id == gone))


async def merge_users(s: AsyncSession, keep: int, gone: int) -> dict:
    """Move everything of user `gone` to user `keep`; returns counts per table for the audit log."""
    assert keep != gone
    moved: dict[str, int] = {}
    kept, lost = await s.get(User, keep), await s.get(User, gone)
    await _merge_subscription(s, keep, gone)
    await _merge_flow_answers(s, keep, gone)
    await _merge_conversation(s, keep, gone)
    await s.flush()
    for table, col in _user_columns():
        res = await s.execute(update(table).where(col == gone).values({col.name: keep})
                              .execution_options(synchronize_session=False))
        if res.rowcount:
            moved[f"{table.name}.{col.name}"] = res.rowcount
    kept.phone = kept.phone or lost.phone
    kept.province = kept.province or lost.province
    kept.display_name = kept.display_name or lost.display_name
    kept.start_payload = kept.start_payload or lost.start_payload
    kept.opted_out = bool(kept.opted_out or lost.opted_out)     # respect an opt-out made anywhere
    kept.created_at = min(kept.created_at, lost.created_at)
    kept.last_seen_at = max(kept.last_seen_at, lost.last_seen_at)
    s.expunge(lost)
    await s.flush()
    await s.execute(delete(User).where(User.id == gone))
    # rows moved by bulk UPDATEs: reload loaded identities, forget the rest (they are stale)
    for obj in list(s.identity_map.values()):
        if getattr(obj, "user_id", None) == gone:
            if isinstance(obj, Identity):
                await s.refresh(obj)
            else:
                s.expunge(obj)
    return moved
