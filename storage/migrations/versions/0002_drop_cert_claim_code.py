"""drop the unused certificates.claim_code (claims use one-time codes in `codes`)

Revision ID: 0002_drop_cert_claim_code
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_drop_cert_claim_code'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificates') as batch_op:
        if op.get_bind().dialect.name == 'postgresql':
            batch_op.drop_constraint('certificates_claim_code_key', type_='unique')
        batch_op.drop_column('claim_code')


def downgrade() -> None:
    with op.batch_alter_table('certificates') as batch_op:
        batch_op.add_column(sa.Column('claim_code', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint('certificates_claim_code_key', ['claim_code'])
