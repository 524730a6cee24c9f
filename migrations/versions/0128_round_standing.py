"""one stored standing for every public round (round_standing): a votes round's counted votes per entry beside a
pairwise round's chances, which move there from pairwise_fit, read a page at a time by the index of its order;
when it was made and how many ballots it counted on the round (standing_made_at, from pairwise_fitted_at, and
standing_ballots); a votes round has none yet: the first view of its page counts it

Revision ID: 0128
Revises: 0127
Create Date: 2026-12-03 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0128'
down_revision = '0127'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('round_standing',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_round_standing_entry_id_entry'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_round_standing_round_id_round'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'entry_id', name=op.f('pk_round_standing'))
    )
    with op.batch_alter_table('round_standing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_standing_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_round_standing_order', ['round_id', sa.text('value DESC'), 'entry_id'],
                              unique=False)
    op.execute("INSERT INTO round_standing (round_id, entry_id, value) "
               "SELECT round_id, entry_id, chance FROM pairwise_fit")
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standing_made_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('standing_ballots', sa.Integer(), nullable=True))
    op.execute("UPDATE round SET standing_made_at = pairwise_fitted_at")
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_column('pairwise_fitted_at')
    with op.batch_alter_table('pairwise_fit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairwise_fit_entry_id'))
    op.drop_table('pairwise_fit')


def downgrade():
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
    # Only the pairwise rounds' standings were fits; a votes round's counts go (its page counted them itself).
    op.execute("INSERT INTO pairwise_fit (round_id, entry_id, chance) "
               "SELECT s.round_id, s.entry_id, s.value FROM round_standing AS s JOIN round AS r ON r.id = s.round_id "
               "WHERE r.public_mode = 'pairwise'")
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pairwise_fitted_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE round SET pairwise_fitted_at = standing_made_at WHERE public_mode = 'pairwise'")
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_column('standing_ballots')
        batch_op.drop_column('standing_made_at')
    with op.batch_alter_table('round_standing', schema=None) as batch_op:
        batch_op.drop_index('ix_round_standing_order')
        batch_op.drop_index(batch_op.f('ix_round_standing_entry_id'))
    op.drop_table('round_standing')
