"""indexes of a round's voided votes and comparisons by reason: the integrity view and the results read the few
voided ballots of a round from them, not by filtering every counted ballot of the round

Revision ID: 0125
Revises: 0124
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0125'
down_revision = '0124'
branch_labels = None
depends_on = None

VOIDED = sa.text("voided_at IS NOT NULL")
TABLES = ('vote', 'comparison')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_voided', ['round_id', 'voided_reason'], unique=False,
                                  sqlite_where=VOIDED, postgresql_where=VOIDED)


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_voided')
