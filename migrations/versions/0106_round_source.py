"""a round says which earlier round's outcome it takes its entries from, or that it takes every approved entry

Revision ID: 0106
Revises: 0102
Create Date: 2026-12-01 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0106'
down_revision = '0102'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_round_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('takes_all_approved', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_foreign_key(batch_op.f('fk_round_source_round_id_round'), 'round', ['source_round_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_round_source_round_id_round'), type_='foreignkey')
        batch_op.drop_column('takes_all_approved')
        batch_op.drop_column('source_round_id')
