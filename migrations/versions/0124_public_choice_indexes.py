"""indexes of a call's public entries by topic, theme, place and channel: the gallery's filter choices read the
values used from them, one probe a value, whatever the call's size

Revision ID: 0124
Revises: 0122
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0124'
down_revision = '0122'
branch_labels = None
depends_on = None

PUBLIC = sa.text("status = 'approved' AND merged_into_id IS NULL")
COLUMNS = ('topic', 'theme', 'place', 'channel')


def upgrade():
    with op.batch_alter_table('entry', schema=None) as batch_op:
        for name in COLUMNS:
            column = name if name == 'channel' else f'{name}_id'
            batch_op.create_index(f'ix_entry_public_{name}', ['call_id', column], unique=False,
                                  sqlite_where=PUBLIC, postgresql_where=PUBLIC)


def downgrade():
    with op.batch_alter_table('entry', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_index(f'ix_entry_public_{name}')
