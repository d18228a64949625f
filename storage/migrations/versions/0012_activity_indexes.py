"""Indexes for the report's bot activity of today (handlers/console/activity.py): deliveries, FAQ questions and
dossier answers by time

Revision ID: 0012_activity_indexes
Revises: 0011_province_ids
Create Date: 2026-12-02 06:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0012_activity_indexes'
down_revision = '0011_province_ids'
branch_labels = None
depends_on = None


def upgrade() -> None:
    sent = sa.text('sent_at IS NOT NULL')     # sent rows only: queued rows of a broadcast are not indexed
    op.create_index('ix_deliveries_sent', 'deliveries', ['sent_at', 'identity_id'], sqlite_where=sent,
                    postgresql_where=sent)
    op.create_index('ix_faq_log_created', 'faq_log', ['created_at', 'user_id', 'outcome'])
    op.create_index('ix_flow_answers_updated', 'flow_answers', ['flow', 'updated_at', 'user_id'])


def downgrade() -> None:
    op.drop_index('ix_flow_answers_updated', table_name='flow_answers')
    op.drop_index('ix_faq_log_created', table_name='faq_log')
    op.drop_index('ix_deliveries_sent', table_name='deliveries')
