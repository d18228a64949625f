"""All tables. One Base; Alembic migrations in storage/migrations are generated from it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, UniqueConstraint, event, false, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from core import clock
from storage.sql import UTCDateTime


def utcnow() -> datetime:
    return clock.now()


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON, list: JSON}


class ProvinceId:
    """Every `province` column holds a province id (migration 0011): names assigned by code are normalised."""

    @validates("province")
    def _province_id(self, _key, value):
        from core.reference import province_id_of
        return province_id_of(value) or value     # an unknown value is refused by the caller before this


# --- people ---------------------------------------------------------------------------------
class User(ProvinceId, Base):
    """A person; may have several channel identities (Telegram + Zalo)."""
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    province: Mapped[str | None] = mapped_column(String(64))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    start_payload: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(Base):
    """A user's account on one channel. `active` goes false on 403 blocked / chat not found."""
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))          # telegram | zalo | console
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(64))
    last_interaction_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_id: Mapped[str | None] = mapped_column(String(64))   # Zalo OA replies reference it


class Conversation(Base):
    """The one guided flow a user is in (if any) and its small scratch data."""
    __tablename__ = "conversations"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FlowAnswer(Base):
    """Answers of a Smart-Answers style flow, keyed by node id; the step is derived by replay."""
    __tablename__ = "flow_answers"
    __table_args__ = (UniqueConstraint("user_id", "flow", "node"),
                      Index("ix_flow_answers_updated", "flow", "updated_at", "user_id"))    # the report's activity
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    flow: Mapped[str] = mapped_column(String(32))
    node: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Role(ProvinceId, Base):
    """Officer role; province NULL = national scope. Revoked rows are kept (revoked_at)."""
    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="officer")
    province: Mapped[str | None] = mapped_column(String(64))
    granted_by: Mapped[int | None] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the console's Nhật ký: newest first, and its list of actions (DISTINCT read from the index)
    __table_args__ = (Index("ix_audit_created", "created_at", "id"), Index("ix_audit_action", "action"))


class Subscription(ProvinceId, Base):
    __tablename__ = "subscriptions"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    province: Mapped[str | None] = mapped_column(String(64), index=True)
    groups: Mapped[list] = mapped_column(JSON, default=list)      # product group ids
    topics: Mapped[list] = mapped_column(JSON, default=list)      # hoi_cho, dot_danh_gia, tap_huan, chinh_sach
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- FAQ ------------------------------------------------------------------------------------
QUESTION_KEY_LEN = 300


def question_key(question: str | None) -> str:
    """The misses' grouping key of a question: folded (no diacritics, lower case, spaces collapsed), at
    most QUESTION_KEY_LEN characters (an index entry stays small whatever the script)."""
    from core.text import fold
    return fold(question or "")[:QUESTION_KEY_LEN]


MISSED_LOG = "outcome = 'fallback'"     # the misses' partial indexes (handlers/faq/repo.py says them literally)
MISSED_VOTE = "vote < 0"


def _question_key_default(context) -> str:
    return question_key(context.get_current_parameters().get("question"))


class FaqLog(Base):
    """Every free-text question and what the engine did with it (no personal data but user id).
    `question_key` is filled on insert, ORM or Core (the group commit's executemany)."""
    __tablename__ = "faq_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(QUESTION_KEY_LEN), default=_question_key_default,
                                              server_default="")
    faq_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str] = mapped_column(String(16))      # answer | suggest | fallback | smalltalk
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the misses page: grouping, the latest wording, the province scope, from the index alone (the
    # condition's column too: SQLite 3.40 reads the table to check the condition otherwise)
    __table_args__ = (Index("ix_faq_log_misses", "question_key", "created_at", "user_id", "outcome",
                            sqlite_where=text(MISSED_LOG), postgresql_where=text(MISSED_LOG)),
                      Index("ix_faq_log_created", "created_at", "user_id", "outcome"))   # the report's activity


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    faq_id: Mapped[str] = mapped_column(String(64))
    vote: Mapped[int] = mapped_column(Integer)            # +1 / -1
    question: Mapped[str | None] = mapped_column(Text)    # the question that got this answer (a 👎 is a miss)
    question_key: Mapped[str] = mapped_column(String(QUESTION_KEY_LEN), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_feedback_misses", "question_key", "created_at", "user_id", "vote",
                            sqlite_where=text(MISSED_VOTE), postgresql_where=text(MISSED_VOTE)),)


@event.listens_for(Feedback, "before_insert")
@event.listens_for(Feedback, "before_update")
def _feedback_question_key(_mapper, _conn, row: Feedback) -> None:
    row.question_key = question_key(row.question)


class FaqEdit(Base):
    """An officer's change to an FAQ entry (the console's FAQ page): both the history and the overlay.

    The latest row of an entry is in force: "edit"/"create" -> `after` replaces the YAML entry (or adds
    one), "revert" -> the YAML again. The highest id is the version every bot process compares with
    the one its FAQ index reflects."""
    __tablename__ = "faq_edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    faq_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))       # edit | create | revert
    before: Mapped[dict | None] = mapped_column(JSON)      # the entry in force before (None: did not exist)
    after: Mapped[dict | None] = mapped_column(JSON)       # the entry in force after (revert: the YAML's, or None)
    user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfficerQuestion(ProvinceId, Base):
    """A question a producer sent to officers from the FAQ fallback."""
    __tablename__ = "officer_questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    province: Mapped[str | None] = mapped_column(String(64), index=True)
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(QUESTION_KEY_LEN), default=_question_key_default,
                                              server_default="", index=True)   # the FAQ page's misses link here
    status: Mapped[str] = mapped_column(String(16), default="open")   # open | answered
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column()
    faq_candidate: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- certificates, rounds, fairs --------------------------------------------------------------
class Certificate(ProvinceId, Base):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("province", "decision_no", "product", name="uq_cert_register"),
                      Index("ix_cert_expires", "expires_on"),
                      Index("ix_cert_province_expires", "province", "expires_on"),
                      Index("ix_cert_recognized", "recognized_on"),
                      Index("ix_cert_owner_revoked", "owner_user_id", "revoked"))   # console: reachable owners
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    product: Mapped[str] = mapped_column(String(200))
    producer: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    commune: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(64), default="")
    group: Mapped[str] = mapped_column(String(32), default="")
    stars: Mapped[int] = mapped_column(Integer)
    decision_no: Mapped[str] = mapped_column(String(64), default="")
    authority: Mapped[str] = mapped_column(String(16), default="province")   # province | ministry
    recognized_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="user")          # user | import
    producer_type: Mapped[str | None] = mapped_column(String(8))       # htx | tht | dn | hkd (report)
    recognition_kind: Mapped[str | None] = mapped_column(String(8))    # new | reeval | upgrade
    subgroup: Mapped[str | None] = mapped_column(String(32))           # QĐ 26 phân nhóm id (subgroups.yml)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    revoked_on: Mapped[date | None] = mapped_column(Date)
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")  # folded, for search
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def certificate_search_key(product, producer, commune, decision_no) -> str:
    """Diacritic-free lower-case text the console searches (kept in step by the ORM events below)."""
    from core.text import fold
    return fold(" ".join(str(x or "") for x in (product, producer, commune, decision_no)))


@event.listens_for(Certificate, "before_insert")
@event.listens_for(Certificate, "before_update")
def _certificate_search_key(_mapper, _conn, cert: Certificate) -> None:
    cert.search_key = certificate_search_key(cert.product, cert.producer, cert.commune, cert.decision_no)


class PlanTarget(ProvinceId, Base):
    """A plan target an officer entered on the report page ("đến 31/12/2026: 10 sản phẩm 4 sao")."""
    __tablename__ = "plan_targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province: Mapped[str | None] = mapped_column(String(64), index=True)   # province id; NULL = national
    label: Mapped[str] = mapped_column(String(200), default="")
    due_on: Mapped[date] = mapped_column(Date)
    stars: Mapped[int | None] = mapped_column(Integer)
    group: Mapped[str | None] = mapped_column(String(32))
    producer_type: Mapped[str | None] = mapped_column(String(8))
    target: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A signed-in browser of the officers' console. id = sha256 of the cookie value."""
    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()


class WebUpload(Base):
    """A spreadsheet uploaded to the console, kept between the dry run and the confirmation."""
    __tablename__ = "web_uploads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="checked")   # checked | imported
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvaluationRound(ProvinceId, Base):
    __tablename__ = "evaluation_rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    registration_deadline: Mapped[date] = mapped_column(Date)
    evaluation_date: Mapped[date | None] = mapped_column(Date)
    where_to_submit: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Fair(ProvinceId, Base):
    __tablename__ = "fairs"
    __table_args__ = (UniqueConstraint("name", "start_date", "province", name="uq_fair"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    organiser: Mapped[str] = mapped_column(String(300), default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    province: Mapped[str] = mapped_column(String(64), index=True)
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date)
    registration_deadline: Mapped[date | None] = mapped_column(Date)
    contact: Mapped[str] = mapped_column(String(300), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    target_groups: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Code(Base):
    """One-time codes: claim imported certificates, link a Telegram and a Zalo account."""
    __tablename__ = "codes"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))          # claim | link
    user_id: Mapped[int | None] = mapped_column(Integer)
    ref: Mapped[dict] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime | None] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- outgoing messages ------------------------------------------------------------------------
class Broadcast(Base):
    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    segment: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|scheduled|running|done|cancelled
    scheduled_at: Mapped[datetime | None] = mapped_column()
    progress_identity_id: Mapped[int | None] = mapped_column(Integer)
    progress_message_id: Mapped[str | None] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(Integer, default=0)
    # a finished broadcast's final delivery counts (no row pending: they no longer change), per status and
    # per channel and status; NULL until then, filled at 'done' or by the console (handlers/broadcast/web.py)
    counts: Mapped[dict | None] = mapped_column(JSON)
    channel_counts: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class Reminder(Base):
    """A reminder that became due; the unique key makes the sweep idempotent."""
    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_ref", "kind", "ref_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)   # e.g. cert:12:2027-03-05:30
    kind: Mapped[str] = mapped_column(String(16))                # cert | round | fair
    ref_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)   # NULL: unclaimed register entry
    offset_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | skipped (superseded)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One outgoing message to one identity. The single delivery path works off these rows.

    status: queued -> claimed -> sending -> sent
            | failed | blocked | opted_out | cancelled | outside_window | quota | unknown
    'sending' is committed right before the network call: a row found in 'sending' after a
    crash may or may not have reached the user and is never re-sent (marked 'unknown').
    """
    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_deliveries_broadcast", "broadcast_id", "status"),
                      Index("ix_deliveries_identity_sent", "identity_id", "sent_at"),
                      # the report's activity of today; sent rows only (not every queued row of a broadcast)
                      Index("ix_deliveries_sent", "sent_at", "identity_id", sqlite_where=text("sent_at IS NOT NULL"),
                            postgresql_where=text("sent_at IS NOT NULL")))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(16))        # broadcast | reminder | answer | notice
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    # NULL for a ZNS template message: chat_id is then the phone (84…), channel 'zns'
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(300))
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()      # delivery receipt (ZNS user_received_message)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallListEntry(ProvinceId, Base):
    """A reminder no route reached: officers call the producer (handlers/reach/calllist.py)."""
    __tablename__ = "call_list"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))                 # cert | round
    cert_id: Mapped[int | None] = mapped_column(Integer, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    province: Mapped[str] = mapped_column(String(64), default="", index=True)
    product: Mapped[str] = mapped_column(String(200), default="")
    producer: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    commune: Mapped[str | None] = mapped_column(String(100))
    expires_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(32))               # no_route | no_zalo | refused | …
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    called_at: Mapped[datetime | None] = mapped_column()
    called_by: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")


class PhoneConsent(Base):
    """Per phone (0…): why we may send ZNS to it, and whether that ended (Zalo refusal, /stop)."""
    __tablename__ = "phone_consents"
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    basis: Mapped[str] = mapped_column(String(32))                # register | contact
    refused_at: Mapped[datetime | None] = mapped_column()         # -134/-139/-141: final
    refused_code: Mapped[int | None] = mapped_column(Integer)
    opted_out_at: Mapped[datetime | None] = mapped_column()       # the producer's /stop, /huydangky
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SharedFile(Base):
    """A file for one identity behind an unguessable short-lived link (/tep/<token>)."""
    __tablename__ = "shared_files"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    identity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column()
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- channel plumbing -----------------------------------------------------------------------
class ProcessedEvent(Base):
    """Webhook de-duplication: an event id seen once is not processed again."""
    __tablename__ = "processed_events"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthToken(Base):
    """Zalo OA tokens; refresh tokens are single-use and rotate, so they live here, not in env."""
    __tablename__ = "oauth_tokens"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)     # e.g. zalo_oa
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KeyValue(Base):
    """Small persistent settings/markers (e.g. last reminder sweep date)."""
    __tablename__ = "kv"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- operations -------------------------------------------------------------------------------
class Incident(Base):
    """Something an administrator must act on (core/ops/alerts.py). One row per kind + key:
    opening it notifies the admins once; occurrences while open only count; resolving closes it and
    a later occurrence opens a new episode (notified again)."""
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("kind", "key"), Index("ix_incidents_status", "status"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))        # zalo_token | zns | queue_stale | job_failed | webhook_error
    key: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open")   # open | resolved
    text: Mapped[str] = mapped_column(Text, default="")
    episode: Mapped[int] = mapped_column(Integer, default=1)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()


import storage.cert_version  # noqa: E402,F401  (keeps the register's version current on every write)
