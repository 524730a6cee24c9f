"""entries whose texts say the same thing stored once, when a text is indexed (similar_entry, read by the
common-issues view by its index), found now for the entries already there; the bands' index ends with the entry,
so that a few entries of a bucket are read on either side of an id

Revision ID: 0122
Revises: 0123
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0122'
down_revision = '0123'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('similar_entry',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_similar_entry_call_id_call'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_similar_entry_entry_id_entry'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_id'], ['entry.id'], name=op.f('fk_similar_entry_other_id_entry'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'other_id', name=op.f('pk_similar_entry'))
    )
    with op.batch_alter_table('similar_entry', schema=None) as batch_op:
        batch_op.create_index('ix_similar_entry_call_id_similarity',
                              ['call_id', 'similarity', 'entry_id', 'other_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_similar_entry_other_id'), ['other_id'], unique=False)
    op.drop_index('ix_entry_band_call_id_band_value', table_name='entry_band')
    op.create_index('ix_entry_band_call_id_band_value', 'entry_band', ['call_id', 'band', 'value', 'entry_id'],
                    unique=False)
    from contest.services.search import reindex_all

    reindex_all(op.get_bind())


def downgrade():
    op.drop_index('ix_entry_band_call_id_band_value', table_name='entry_band')
    op.create_index('ix_entry_band_call_id_band_value', 'entry_band', ['call_id', 'band', 'value'], unique=False)
    with op.batch_alter_table('similar_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_similar_entry_other_id'))
        batch_op.drop_index('ix_similar_entry_call_id_similarity')
    op.drop_table('similar_entry')
