"""broadcasts.counts and channel_counts: a finished broadcast's final delivery counts (the console's pages)

Revision ID: 0010_broadcast_counts
Revises: 0009_audit_indexes
Create Date: 2026-12-02 02:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0010_broadcast_counts'
down_revision = '0009_audit_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counts', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('channel_counts', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_column('channel_counts')
        batch_op.drop_column('counts')
