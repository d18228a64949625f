"""certificates.subgroup (QĐ 26 phân nhóm), an index for reachable owners, and the register's version row
(console caches, issue 11)

Revision ID: 0007_console_subgroup
Revises: 0006_faq_edits
Create Date: 2026-12-02 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_console_subgroup'
down_revision = '0006_faq_edits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subgroup', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_cert_owner_revoked', ['owner_user_id', 'revoked'], unique=False)
    # the row every certificate write updates (storage/cert_version.py); present from the start, so two
    # first writers never race to insert it
    op.execute(sa.text("INSERT INTO kv (key, value) VALUES ('console:certs', 'initial')"))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM kv WHERE key = 'console:certs'"))
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_cert_owner_revoked')
        batch_op.drop_column('subgroup')
