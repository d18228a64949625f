"""Provinces are stored as ids ("dong_thap") in every table, not as display names ("Đồng Tháp")

Official names and old pre-2025 names are mapped to the id (core.reference); an unknown value is left as
it is (and counted in the log). Downgrade writes the official names back (roles already held ids before).

Revision ID: 0011_province_ids
Revises: 0010_broadcast_counts
Create Date: 2026-12-02 05:30:00
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0011_province_ids'
down_revision = '0010_broadcast_counts'
branch_labels = None
depends_on = None

NAMED = ("users", "subscriptions", "officer_questions", "certificates", "plan_targets", "evaluation_rounds",
         "fairs", "call_list")
TABLES = ("roles", *NAMED)
log = logging.getLogger("alembic.runtime.migration")


def _rewrite(tables, convert) -> None:
    """UPDATE each distinct stored value to convert(value) (None: unknown, left as it is and logged)."""
    conn = op.get_bind()
    for table in tables:
        t = sa.table(table, sa.column("province"))
        for value, n in conn.execute(sa.select(t.c.province, sa.func.count()).where(
                t.c.province.is_not(None), t.c.province != "").group_by(t.c.province)).all():
            new = convert(value)
            if new is None:
                log.warning("0011: %s.province %r (%d rows) is no known province; left as it is", table, value, n)
            elif new != value:
                conn.execute(sa.update(t).where(t.c.province == value).values(province=new))


def _to_id(value: str):
    from core.reference import province_id_of
    return province_id_of(value)


def _to_name(value: str):
    from core.reference import province_by_id
    p = province_by_id(value)
    return p.name if p else value


def upgrade() -> None:
    _rewrite(TABLES, _to_id)


def downgrade() -> None:
    _rewrite(NAMED, _to_name)
