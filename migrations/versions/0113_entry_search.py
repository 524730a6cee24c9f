"""entries found by their words: the segmented words of each entry, a tsvector with a GIN index on PostgreSQL
and an FTS5 table on SQLite, filled for the entries already there; the MinHash bands of each entry's text

Revision ID: 0113
Revises: 0107
Create Date: 2026-12-02 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0113'
down_revision = '0116'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('entry_band',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('band', sa.SmallInteger(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_entry_band_call_id_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_entry_band_entry_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'band', name=op.f('pk_entry_band'))
    )
    op.create_index('ix_entry_band_call_id_band_value', 'entry_band', ['call_id', 'band', 'value'], unique=False)
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        op.execute("""
            CREATE TABLE entry_search (
                entry_id integer PRIMARY KEY
                    CONSTRAINT fk_entry_search_entry_id_entry REFERENCES entry (id) ON DELETE CASCADE,
                words text NOT NULL DEFAULT '',
                document tsvector GENERATED ALWAYS AS (to_tsvector('simple', words)) STORED
            )""")
        op.execute("CREATE INDEX ix_entry_search_document ON entry_search USING gin (document)")
    else:
        # FTS5 over the words jieba made (unicode61 splits them at the spaces); the rowid is the entry's id. No
        # trigger removes a deleted entry's words (a table rebuilt by a later batch migration would lose it): words
        # left behind match no entry, and an id used again has its words rewritten when its entry is written.
        op.execute("CREATE VIRTUAL TABLE entry_search USING fts5(words)")
    from contest.services.search import reindex_all

    reindex_all(connection, pairs=False)  # the similar entries' table comes in 0122


def downgrade():
    op.execute("DROP TABLE entry_search")
    op.drop_index('ix_entry_band_call_id_band_value', table_name='entry_band')
    op.drop_table('entry_band')
