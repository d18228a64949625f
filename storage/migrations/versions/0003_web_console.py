"""officers' web console: report fields on certificates, plan targets, web sessions and uploads

Revision ID: 0003_web_console
Revises: 0002_drop_cert_claim_code
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_web_console'
down_revision = '0002_drop_cert_claim_code'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as b:
        b.add_column(sa.Column('producer_type', sa.String(length=8), nullable=True))
        b.add_column(sa.Column('recognition_kind', sa.String(length=8), nullable=True))
        b.add_column(sa.Column('revoked', sa.Boolean(), server_default=sa.false(), nullable=False))
        b.add_column(sa.Column('revoked_on', sa.Date(), nullable=True))
        b.add_column(sa.Column('search_key', sa.Text(), server_default='', nullable=False))
        b.create_index('ix_cert_province_expires', ['province', 'expires_on'], unique=False)
        b.create_index('ix_cert_recognized', ['recognized_on'], unique=False)
    with op.batch_alter_table('reminders', schema=None) as b:
        b.create_index('ix_reminders_ref', ['kind', 'ref_id'], unique=False)
    with op.batch_alter_table('deliveries', schema=None) as b:
        b.create_index('ix_deliveries_identity_sent', ['identity_id', 'sent_at'], unique=False)

    op.create_table('plan_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('province', sa.String(length=64), nullable=True),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('stars', sa.Integer(), nullable=True),
        sa.Column('group', sa.String(length=32), nullable=True),
        sa.Column('producer_type', sa.String(length=8), nullable=True),
        sa.Column('target', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_plan_targets_province', 'plan_targets', ['province'], unique=False)
    op.create_table('web_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'], unique=False)
    op.create_table('web_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_web_uploads_user_id', 'web_uploads', ['user_id'], unique=False)

    # existing rows become searchable without diacritics
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from storage.models import certificate_search_key
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, product, producer, commune, decision_no FROM certificates")).all()
    if rows:
        conn.execute(sa.text("UPDATE certificates SET search_key = :k WHERE id = :i"),
                     [{"k": certificate_search_key(r[1], r[2], r[3], r[4]), "i": r[0]} for r in rows])


def downgrade() -> None:
    op.drop_table('web_uploads')
    op.drop_table('web_sessions')
    op.drop_table('plan_targets')
    with op.batch_alter_table('deliveries', schema=None) as b:
        b.drop_index('ix_deliveries_identity_sent')
    with op.batch_alter_table('reminders', schema=None) as b:
        b.drop_index('ix_reminders_ref')
    with op.batch_alter_table('certificates', schema=None) as b:
        b.drop_index('ix_cert_recognized')
        b.drop_index('ix_cert_province_expires')
        for c in ('search_key', 'revoked_on', 'revoked', 'recognition_kind', 'producer_type'):
            b.drop_column(c)
