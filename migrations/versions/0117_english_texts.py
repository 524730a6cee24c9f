"""an English text beside each Chinese text a department writes: a call's title, summary, brief and rules, its
themes, topics and prizes, rounds and their criteria, meetings and their minutes, follow-up updates, the results'
statement and the answers to objections (the Chinese texts stay where they are)

Revision ID: 0117
Revises: 0112
Create Date: 2026-12-02 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0117'
down_revision = '0119'
branch_labels = None
depends_on = None

# table: (column, type) for each English twin; every one nullable, so no existing row changes.
COLUMNS = {
    'call': [('title_en', sa.String(length=300)), ('summary_en', sa.String(length=1000)), ('brief_en', sa.Text()),
             ('licence_text_en', sa.Text()), ('originality_text_en', sa.Text()),
             ('award_statement_en', sa.Text())],
    'call_theme': [('name_en', sa.String(length=80))],
    'topic': [('title_en', sa.String(length=300)), ('description_en', sa.Text())],
    'prize': [('name_en', sa.String(length=200)), ('reward_en', sa.String(length=300))],
    'round': [('title_en', sa.String(length=300))],
    'criterion': [('name_en', sa.String(length=200)), ('description_en', sa.Text())],
    'meeting': [('title_en', sa.String(length=300)), ('minutes_en', sa.Text())],
    'follow_up_update': [('text_en', sa.Text())],
    'objection': [('answer_en', sa.Text())],
}


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_ in columns:
                batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade():
    for table, columns in reversed(list(COLUMNS.items())):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _type in reversed(columns):
                batch_op.drop_column(name)
