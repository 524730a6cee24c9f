"""a public round's ballots per hour and crowded addresses, stored with its standing (round.standing_tallies):
the organisers' round page reads them as of the standing's time instead of grouping every ballot of the round by
hour and by address on each view; a standing stored before has none, and is made again on the next view

Revision ID: 0129
Revises: 0128
Create Date: 2026-12-03 12:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0129'
down_revision = '0128'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standing_tallies', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_column('standing_tallies')
