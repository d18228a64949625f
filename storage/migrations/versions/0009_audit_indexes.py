"""audit_log indexes for the console's Nhật ký (newest first; the list of actions)

Revision ID: 0009_audit_indexes
Revises: 0008_faq_question_key
Create Date: 2026-12-02 01:45:00
"""
from alembic import op


revision = '0009_audit_indexes'
down_revision = '0008_faq_question_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_audit_action', ['action'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_action')
        batch_op.drop_index('ix_audit_created')
