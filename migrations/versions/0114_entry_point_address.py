"""an entry may carry a point (WGS-84 latitude and longitude), its geohash cell and a typed address

Revision ID: 0114
Revises: 0107
Create Date: 2026-12-02 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0114'
down_revision = '0113'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lng', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('cell', sa.String(length=9), nullable=True))
    # Partial: only the entries a map shows (public, kept, placed), holding their point for index-only reads.
    where = sa.text("status = 'approved' AND merged_into_id IS NULL AND lat IS NOT NULL")
    op.create_index('ix_entry_map_cell', 'entry', ['call_id', 'cell', 'lat', 'lng'], unique=False,
                    postgresql_where=where, sqlite_where=where)
    op.create_index('ix_entry_map_lat', 'entry', ['call_id', 'lat', 'lng'], unique=False,
                    postgresql_where=where, sqlite_where=where)


def downgrade():
    op.drop_index('ix_entry_map_lat', table_name='entry')
    op.drop_index('ix_entry_map_cell', table_name='entry')
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_column('cell')
        batch_op.drop_column('address')
        batch_op.drop_column('lng')
        batch_op.drop_column('lat')
