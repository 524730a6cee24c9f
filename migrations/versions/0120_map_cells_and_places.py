"""a call's public placed entries counted per geohash cell (4 to 6 characters) for the map's wide views; a
follow-up's built object and a meeting may carry a point (and the built object an address)

Revision ID: 0120
Revises: 0112
Create Date: 2026-12-02 11:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0120'
down_revision = '0118'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('map_cell',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('cell', sa.String(length=6), nullable=False),
    sa.Column('precision', sa.SmallInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_map_cell_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'cell', name=op.f('pk_map_cell'))
    )
    op.create_index('ix_map_cell_call_id_precision_lat', 'map_cell', ['call_id', 'precision', 'lat', 'lng'],
                    unique=False)
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lng', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=200), server_default='', nullable=False))
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lng', sa.Float(), nullable=True))
    # The entries already placed are counted now; from here on contest.services.map keeps the counts in step.
    from contest.services.map import rebuild_cells

    rebuild_cells(op.get_bind())


def downgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('lng')
        batch_op.drop_column('lat')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('lng')
        batch_op.drop_column('lat')
    op.drop_index('ix_map_cell_call_id_precision_lat', table_name='map_cell')
    op.drop_table('map_cell')
