"""entries found by their words: the segmented words of each entry, a tsvector with a GIN index on PostgreSQL
and an FTS5 table on SQLite, filled for the entries already there

Revision ID: 0113
Revises: 0107
Create Date: 2026-12-02 06:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0113'
down_revision = '0107'
branch_labels = None
depends_on = None


def upgrade():
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

    reindex_all(connection)


def downgrade():
    op.execute("DROP TABLE entry_search")
