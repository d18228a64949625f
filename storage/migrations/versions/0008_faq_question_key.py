"""question_key on faq_log, feedback, officer_questions: the folded question the FAQ page's misses are
grouped by and linked to the questions sent to officers (issue 12)

Existing rows are filled in batches by id (the same function the bot uses when it logs a question),
then the indexes are built.

Revision ID: 0008_faq_question_key
Revises: 0007_console_subgroup
Create Date: 2026-12-02 02:00:00
"""
import sys
from pathlib import Path

from alembic import op
import sqlalchemy as sa


revision = '0008_faq_question_key'
down_revision = '0007_console_subgroup'
branch_labels = None
depends_on = None
BATCH = 5000


def _backfill(conn, table: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from storage.models import question_key
    select = sa.text(f"SELECT id, question FROM {table} WHERE id > :after ORDER BY id LIMIT {BATCH}")
    update = sa.text(f"UPDATE {table} SET question_key = :k WHERE id = :i")
    after = 0
    while True:
        rows = conn.execute(select, {"after": after}).all()
        if not rows:
            return
        changed = [{"k": k, "i": i} for i, q in rows if (k := question_key(q))]
        if changed:
            conn.execute(update, changed)
        after = rows[-1][0]


def upgrade() -> None:
    for table in ('faq_log', 'feedback', 'officer_questions'):
        with op.batch_alter_table(table, schema=None) as b:
            b.add_column(sa.Column('question_key', sa.String(length=300), server_default='', nullable=False))
    conn = op.get_bind()
    _backfill(conn, 'faq_log')
    _backfill(conn, 'feedback')
    _backfill(conn, 'officer_questions')
    with op.batch_alter_table('officer_questions', schema=None) as b:
        b.create_index('ix_officer_questions_question_key', ['question_key'], unique=False)
    # partial: only the misses; covering: grouping, latest wording and province scope read the index alone
    for table, name, col, where in (('faq_log', 'ix_faq_log_misses', 'outcome', "outcome = 'fallback'"),
                                    ('feedback', 'ix_feedback_misses', 'vote', "vote < 0")):
        with op.batch_alter_table(table, schema=None) as b:
            b.create_index(name, ['question_key', 'created_at', 'user_id', col], unique=False,
                           sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    with op.batch_alter_table('officer_questions', schema=None) as b:
        b.drop_index('ix_officer_questions_question_key')
        b.drop_column('question_key')
    with op.batch_alter_table('feedback', schema=None) as b:
        b.drop_index('ix_feedback_misses')
        b.drop_column('question_key')
    with op.batch_alter_table('faq_log', schema=None) as b:
        b.drop_index('ix_faq_log_misses')
        b.drop_column('question_key')
