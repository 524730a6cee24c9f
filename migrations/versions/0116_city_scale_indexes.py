"""indexes for a city-size call: a comparison's entries, and the counted votes of a round by entry

Revision ID: 0116
Revises: 0107
Create Date: 2026-12-02 06:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0116'
down_revision = '0111'
branch_labels = None
depends_on = None

NOT_VOIDED = sa.text('voided_at IS NULL')


def upgrade():
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comparison_left_id'), ['left_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparison_right_id'), ['right_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparison_winner_id'), ['winner_id'], unique=False)
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_index('ix_vote_counted', ['round_id', 'entry_id'], unique=False,
                              sqlite_where=NOT_VOIDED, postgresql_where=NOT_VOIDED)


def downgrade():
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_index('ix_vote_counted')
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparison_winner_id'))
        batch_op.drop_index(batch_op.f('ix_comparison_right_id'))
        batch_op.drop_index(batch_op.f('ix_comparison_left_id'))
