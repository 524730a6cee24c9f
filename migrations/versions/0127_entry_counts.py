"""a call's entries counted by status, the merged apart (entry_count): the totals of a call's gallery, API and
console read from a few rows whatever its size; the entries already there are counted now

Revision ID: 0127
Revises: 0125
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0127'
down_revision = '0125'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('entry_count',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'approved', 'rejected', 'withdrawn', name='entrystatus',
                                native_enum=False, length=20), nullable=False),
    sa.Column('merged', sa.Boolean(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_entry_count_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'status', 'merged', name=op.f('pk_entry_count'))
    )
    # From here on contest.services.counts keeps the counts in step.
    op.execute("INSERT INTO entry_count (call_id, status, merged, count) "
               "SELECT call_id, status, merged_into_id IS NOT NULL, count(*) FROM entry "
               "GROUP BY call_id, status, merged_into_id IS NOT NULL")


def downgrade():
    op.drop_table('entry_count')
