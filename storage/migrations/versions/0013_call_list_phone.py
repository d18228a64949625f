"""call_list(phone): a Zalo refusal corrects that phone's open call-list rows (handlers/reach/calllist.refused_since)

Revision ID: 0013_call_list_phone
Revises: 0012_activity_indexes
Create Date: 2026-12-02 06:40:00
"""
from alembic import op


revision = '0013_call_list_phone'
down_revision = '0012_activity_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_list', schema=None) as batch_op:
        batch_op.create_index('ix_call_list_phone', ['phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call_list', schema=None) as batch_op:
        batch_op.drop_index('ix_call_list_phone')
