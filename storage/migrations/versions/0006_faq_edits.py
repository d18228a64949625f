"""faq_edits (officers' FAQ edits with history, issue 12); feedback.question (a 👎 is a miss)

Revision ID: 0006_faq_edits
Revises: 0005_ops_incidents
Create Date: 2026-12-02 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_faq_edits'
down_revision = '0005_ops_incidents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faq_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('faq_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('faq_edits', schema=None) as batch_op:
        batch_op.create_index('ix_faq_edits_faq_id', ['faq_id'], unique=False)
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('question')
    with op.batch_alter_table('faq_edits', schema=None) as batch_op:
        batch_op.drop_index('ix_faq_edits_faq_id')
    op.drop_table('faq_edits')
