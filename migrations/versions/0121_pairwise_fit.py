"""a pairwise round's Bradley-Terry fit stored, each entry's chance to be preferred a row of pairwise_fit, and when
it was made on the round (none yet: the first view of the round's page makes it)

Revision ID: 0121
Revises: 0120
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0121'
down_revision = '0120'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pairwise_fit',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('chance', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_pairwise_fit_entry_id_entry'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_pairwise_fit_round_id_round'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'entry_id', name=op.f('pk_pairwise_fit'))
    )
    with op.batch_alter_table('pairwise_fit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairwise_fit_entry_id'), ['entry_id'], unique=False)
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pairwise_fitted_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_column('pairwise_fitted_at')
    with op.batch_alter_table('pairwise_fit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairwise_fit_entry_id'))
    op.drop_table('pairwise_fit')
