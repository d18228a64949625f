"""Group commit for the small writes every update makes: "which update is this, who sent it, which
flow are they in, they wrote now" (touch) and append-only records such as the FAQ question log
(insert).

Every update starts by claiming its event id (processed_events: an update already handled by this or
another instance, or re-delivered, is dropped), loading the sender's identity, user and conversation
and recording the interaction. Done one transaction per update, that costs more than everything else
the bot does for a simple command. Under load, updates arrive together, so the work is batched: while
one batch is in the database, the next requests queue; the next batch then claims all their event ids
with one INSERT, loads all senders with one SELECT, records all interactions with one UPDATE
(executemany) and commits once. Each request gets its own detached copies of the rows, which the
update's own session re-attaches, so handlers see ordinary ORM objects. Records inserted the same way
(`insert`) ride with the next batch while the handler goes on (it awaits one only for its id): they
are facts ("this was asked") that stay even if the handler fails afterwards, and an update leaves
the database in one batch, not two.

A batch that fails is retried one request at a time, so one bad update (say, text the database
refuses) fails only itself.

Nothing is cached: every update reads what the database holds at that moment (so a second instance
or a restart changes nothing), and the interaction is committed before the handler runs, so it is
recorded even when the handler fails. An idle bot pays one event-loop turn of latency at most.

Durability on PostgreSQL (decided): the connection runs with synchronous_commit=off, so a batch's
COMMIT does not wait for the WAL flush (batches are serialised: that wait would be paid by every
update). A server crash (not a bot crash) can lose the last ~0.6 s (3 × wal_writer_delay) of such
commits, and only commits not followed by a synchronous one (WAL is flushed in order: any later
handler transaction, delivery row or sweep makes every earlier batch durable). What such a loss can
contain, and why it costs no reminder:
- event-id claims: the update was not answered either (the handler needs the database that crashed),
  and a webhook re-delivery is then processed, as it should be; a polled update is not re-fetched;
- "last interaction" times and FAQ log rows: statistics; a stale last-interaction time at most
  makes the reach chain pick the next route (ZNS, call list) for a Zalo OA reminder outside its
  window, it never drops the reminder.
Reminders and every delivery row are written by their own transactions (sweep, handlers, worker),
which commit synchronously; the sweep recreates a missing reminder row idempotently on its key.
The two batch changes a reminder depends on, creating a person and reactivating a person who had
blocked the bot (`active` decides whether a queued reminder is sent), make their batch commit
synchronously (SET LOCAL synchronous_commit TO on).
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, Table, bindparam, column, delete, insert, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from core.messages import Incoming
from storage import users
from storage.models import Conversation, Identity, ProcessedEvent, User, utcnow

log = logging.getLogger("ocop.group_commit")

MAX_BATCH = 200          # keys per SELECT ... IN (...)
EVENT_MEMORY = timedelta(days=7)     # how long an update's event id is remembered (Telegram: 24 h)

_I, _U, _C, _E = Identity.__table__, User.__table__, Conversation.__table__, ProcessedEvent.__table__
# A text() statement: SQLAlchemy computes no cache key for it (a select() of 23 labelled columns
# costs more to look up than SQLite takes to run it). Built from the table metadata, so it follows the
# models; the typed columns give the usual result processing (datetimes, booleans, JSON).
_PARTS = [("i", _I), ("u", _U), ("c", _C)]
_LOAD = (text("SELECT " + ", ".join(f"{a}.{c.name} AS {a}_{c.key}" for a, t in _PARTS for c in t.c)
              + f" FROM {_I.name} i JOIN {_U.name} u ON u.id = i.user_id"
              + f" LEFT JOIN {_C.name} c ON c.user_id = u.id"
              + " WHERE i.channel = :channel AND i.external_id IN :ids")
         .bindparams(bindparam("ids", expanding=True))
         .columns(*[column(f"{a}_{c.key}", c.type) for a, t in _PARTS for c in t.c]))
# Claim a batch's event ids: one statement whatever the batch size (a multi-row VALUES would be
# compiled again for every new size), the ids passed as arrays (PostgreSQL) or one JSON list (SQLite).
_CLAIM_INTO = f"INSERT INTO {_E.name} (channel, event_id, created_at) "
_CLAIM_TAIL = " ON CONFLICT (channel, event_id) DO NOTHING RETURNING channel, event_id"
_CLAIM = {
    "postgresql": text(_CLAIM_INTO + "SELECT c, e, :now FROM unnest(CAST(:channels AS TEXT[]), "
                       "CAST(:events AS TEXT[])) AS t(c, e)" + _CLAIM_TAIL),
    "sqlite": text(_CLAIM_INTO + "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), :now "
                   "FROM json_each(:pairs) WHERE true" + _CLAIM_TAIL),     # WHERE: SQLite's upsert syntax
}
_CLAIM = {k: v.bindparams(bindparam("now", type_=_E.c.created_at.type)) for k, v in _CLAIM.items()}
_SET_SEEN = (update(_I).where(_I.c.id == bindparam("_id"))
             .values(last_interaction_at=bindparam("_at"), chat_id=bindparam("_chat"),
                     last_message_id=bindparam("_mid")))


@dataclass
class Snapshot:
    """Column values of one sender's rows, as committed by the batch."""
    identity: dict
    user: dict
    conversation: dict | None

    def user_object(self) -> User:
        return _detached(User, self.user)

    def identity_object(self) -> Identity:
        return _detached(Identity, self.identity)

    def conversation_object(self) -> Conversation | None:
        if self.conversation is None:
            return None
        conv = dict(self.conversation)
        conv["data"] = _copy_json(conv.get("data"))
        return _detached(Conversation, conv)

    def attach(self, session: AsyncSession, user: User | None = None, identity: Identity | None = None
               ) -> tuple[User, Identity, Conversation | None]:
        """ORM objects for these rows, persistent in `session` without a query.

        `user` / `identity`: objects already made from this snapshot (their changes are kept).
        """
        user = user or self.user_object()
        identity = identity or self.identity_object()
        conv = self.conversation_object()
        for o in (user, identity, conv):
            if o is not None:
                session.add(o)
        return user, identity, conv


def _log_lost(fut: asyncio.Future) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.error("a record could not be stored: %s", type(fut.exception()).__name__)


def _copy_json(v):
    if isinstance(v, dict):
        return {k: _copy_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy_json(x) for x in v]
    return v


def _detached(model, values: dict):
    obj = model(**values)
    make_transient_to_detached(obj)     # as if loaded by a query: no pending changes
    return obj


class GroupCommit:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self._pending: list[tuple[tuple, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None
        self._conn: AsyncConnection | None = None     # kept between batches: no checkout, no ping
        self.batches = 0           # how many transactions served how many requests (for tests, bench)
        self.requests = 0

    async def touch(self, msg: Incoming) -> Snapshot | None:
        """The sender's rows, with this interaction recorded (committed); None when the update's
        event id (msg.event_id) was processed before, by this or another instance."""
        return await self._submit(("touch", msg))

    def insert(self, table: Table, values: dict, with_id: bool = False) -> asyncio.Future:
        """Insert one row into `table` with the next batch, without waiting: await the result (the
        row's id with `with_id`, else None) to know it is committed. A row nobody awaits is committed
        all the same; its failure is logged. Rows without an id asked for go in one executemany per
        table; with ids, SQLite inserts them one by one (it does not promise RETURNING's order)."""
        fut = self._submit(("insert", table, values, with_id))
        fut.add_done_callback(_log_lost)
        return fut

    async def settled(self) -> None:
        """Wait until every request made so far is committed (tests, shutdown)."""
        while self._drainer is not None:
            await asyncio.shield(self._drainer)

    def _submit(self, item: tuple) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._pending.append((item, fut))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return fut

    async def close(self) -> None:
        await self.settled()
        await self._release()

    async def _connect(self) -> AsyncConnection:
        conn = await self.engine.connect()
        if conn.dialect.name == "postgresql":
            # the durability SQLite has with synchronous=NORMAL (see the module docstring)
            await conn.execute(text("SET synchronous_commit TO off"))
            await conn.commit()
        return conn

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:                            # not back to the pool with synchronous_commit=off
                await conn.invalidate()
                await conn.close()
            except Exception:               # a connection the database dropped already
                log.debug("closing the group-commit connection failed", exc_info=True)

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)          # updates dispatched in the same loop turn join this batch
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                batch = [(i, f) for i, f in batch if not f.done()]     # a cancelled update needs nothing
                if batch:
                    await self._serve(batch)
        finally:
            self._drainer = None

    async def _serve(self, batch: list[tuple[tuple, asyncio.Future]]) -> None:
        try:
            results = await self._run([i for i, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                # one bad update must not fail the others: each on its own, only the culprit fails
                log.warning("group commit of %d updates failed (%s); retrying one by one",
                            len(batch), type(exc).__name__)
                for one in batch:
                    await self._serve([one])
                return
            results = None
            _, fut = batch[0]
            if not fut.done():
                fut.set_exception(exc)
        for (_, fut), result in zip(batch, results or ()):
            if not fut.done():
                fut.set_result(result)

    async def _run(self, items: list[tuple]) -> list:
        self.batches += 1
        self.requests += len(items)
        for attempt in (1, 2):
            try:
                if self._conn is None:
                    self._conn = await self._connect()
                async with self._conn.begin():
                    return await self._conn.run_sync(flush, items)
            except (IntegrityError, DBAPIError) as exc:
                if not isinstance(exc, IntegrityError):
                    await self._release()   # whatever broke, the next attempt starts on a fresh connection
                if attempt == 2 or not (isinstance(exc, IntegrityError) or exc.connection_invalidated):
                    raise
                # another instance created one of these people at the same moment (the row exists
                # now), or the database dropped the connection: once more
                log.info("group commit: %s; retrying", type(exc).__name__)
        raise AssertionError("unreachable")


def flush(conn: Connection, items: list[tuple]) -> list:
    """One transaction for a batch: event claims, touches, inserts; results in the items' order."""
    results: list = [None] * len(items)
    touches = [(n, it[1]) for n, it in enumerate(items) if it[0] == "touch"]
    fresh = _claim_events(conn, [m for _, m in touches])
    touches = [(n, m) for (n, m), ok in zip(touches, fresh) if ok]
    if touches:
        for (n, _), snap in zip(touches, _touch(conn, [m for _, m in touches])):
            results[n] = snap
    by_table: dict[tuple[Table, bool], list[tuple[int, dict]]] = {}
    for n, it in enumerate(items):
        if it[0] == "insert":
            by_table.setdefault((it[1], it[3]), []).append((n, it[2]))
    for (table, with_id), rows in by_table.items():
        values = [v for _, v in rows]
        if not with_id:
            conn.execute(_insert(table, False), values)
            continue
        ids = conn.execute(_insert(table, True), values).scalars().all()
        for (n, _), new_id in zip(rows, ids):
            results[n] = new_id
    return results


_INSERTS: dict[tuple[Table, bool], object] = {}


def _insert(table: Table, with_id: bool):
    """INSERT into `table` (… RETURNING id in the rows' order with `with_id`), built once."""
    stmt = _INSERTS.get((table, with_id))
    if stmt is None:
        stmt = insert(table)
        if with_id:
            stmt = stmt.returning(table.c.id, sort_by_parameter_order=True)
        stmt = _INSERTS[(table, with_id)] = stmt
    return stmt


def _claim_events(conn: Connection, msgs: list[Incoming]) -> list[bool]:
    """Record the messages' event ids in processed_events; False for an id seen before (a second
    poller, a webhook re-delivery, the same update twice in this batch). No id: always True."""
    keys = list(dict.fromkeys((m.channel, m.event_id[:128]) for m in msgs if m.event_id))
    if not keys:
        return [True] * len(msgs)
    if conn.dialect.name == "postgresql":
        params = {"channels": [c for c, _ in keys], "events": [e for _, e in keys]}
    else:
        params = {"pairs": json.dumps(keys)}
    new = {tuple(r) for r in conn.execute(_CLAIM[conn.dialect.name], params | {"now": utcnow()})}
    out = []
    for m in msgs:
        key = (m.channel, m.event_id[:128])
        out.append(not m.event_id or key in new)
        new.discard(key)                    # a second copy in this very batch is a duplicate too
    return out


async def forget_events(engine: AsyncEngine, keep: timedelta = EVENT_MEMORY) -> int:
    """Delete event ids older than `keep` (no channel re-delivers an update that late)."""
    async with engine.begin() as conn:
        res = await conn.execute(delete(_E).where(_E.c.created_at < utcnow() - keep))
        return res.rowcount or 0


def _touch(conn: Connection, msgs: list[Incoming]) -> list[Snapshot]:
    """Load every sender's rows with one SELECT, create the new ones, record all interactions."""
    now = utcnow()
    by_channel: dict[str, set[str]] = {}
    for m in msgs:
        by_channel.setdefault(m.channel, set()).add(m.user_key)
    rows = [r for channel, ids in by_channel.items()
            for r in conn.execute(_LOAD, {"channel": channel, "ids": sorted(ids)}).mappings()]
    found: dict[tuple, Snapshot] = {}
    for r in rows:
        ident = {c.key: r[f"i_{c.key}"] for c in _I.c}
        user = {c.key: r[f"u_{c.key}"] for c in _U.c}
        conv = {c.key: r[f"c_{c.key}"] for c in _C.c} if r["c_user_id"] is not None else None
        found[(ident["channel"], ident["external_id"])] = Snapshot(ident, user, conv)
    seen: dict[int, dict] = {}
    durable = False
    for m in msgs:                          # in arrival order: a person's last message wins
        snap = found.get((m.channel, m.user_key))
        if snap is None:                    # a first message: create the person
            durable = True
            user, ident = users.create(conn, m, now)
            found[(m.channel, m.user_key)] = Snapshot(ident, user, None)
            continue
        ident = snap.identity
        ident["last_interaction_at"] = now
        ident["chat_id"] = m.chat_id or ident["chat_id"]
        if m.message_id:
            ident["last_message_id"] = m.message_id[:64]
        seen[ident["id"]] = {"_id": ident["id"], "_at": now, "_chat": ident["chat_id"],
                             "_mid": ident["last_message_id"]}
        durable = _rarer_changes(conn, snap, m, now) or durable
    if seen:
        conn.execute(_SET_SEEN, list(seen.values()))
    if durable and conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL synchronous_commit TO on"))     # see the module docstring
    return [found[(m.channel, m.user_key)] for m in msgs]


def _rarer_changes(conn: Connection, snap: Snapshot, m: Incoming, now) -> bool:
    """Reactivation, the once-a-minute last-seen refresh, a first display name: row by row.
    -> whether the person was reactivated."""
    ident, user = snap.identity, snap.user
    reactivated = not ident["active"]
    if reactivated:                         # the person came back: they can be messaged again
        ident["active"], ident["inactive_reason"] = True, None
        conn.execute(update(_I).where(_I.c.id == ident["id"])
                     .values(active=True, inactive_reason=None))
    values = {}
    seen = users.aware(user["last_seen_at"])
    if seen is None or now - seen >= users.SEEN_EVERY:
        values["last_seen_at"] = now
    if m.display_name and not user["display_name"]:
        values["display_name"] = m.display_name[:200]
    if values:
        user.update(values)
        conn.execute(update(_U).where(_U.c.id == user["id"]).values(**values))
    return reactivated
