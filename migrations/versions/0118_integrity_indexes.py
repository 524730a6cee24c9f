"""indexes for a city-size round's integrity view (the addresses ballots came from, the accounts made lately) and
for a call's merged entries

Revision ID: 0118
Revises: 0112
Create Date: 2026-12-02 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0118'
down_revision = '0117'
branch_labels = None
depends_on = None

NOT_VOIDED = sa.text('voided_at IS NULL')
MERGED = sa.text('merged_into_id IS NOT NULL')


def upgrade():
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_index('ix_vote_address', ['round_id', 'address', 'user_id'], unique=False,
                              sqlite_where=NOT_VOIDED, postgresql_where=NOT_VOIDED)
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.create_index('ix_comparison_address', ['round_id', 'address', 'user_id'], unique=False,
                              sqlite_where=NOT_VOIDED, postgresql_where=NOT_VOIDED)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.create_index('ix_entry_merged', ['call_id', 'merged_at'], unique=False,
                              sqlite_where=MERGED, postgresql_where=MERGED)


def downgrade():
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_merged')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_created_at'))
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.drop_index('ix_comparison_address')
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_index('ix_vote_address')
