"""an entry's MinHash bands and its similar entries keep their call's id without a foreign key to the call: the
entry's own key already removes them with the entry (and so with its call), and the call's key cost a lookup and
a lock of the call's row for each of the sixteen bands and the pairs of every entry indexed, which two indexers of
one call (or two citizens sending ideas to it at once) then shared

Revision ID: 0130
Revises: 0129
Create Date: 2026-12-03 14:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0130'
down_revision = '0129'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('entry_band', schema=None) as batch_op:
        batch_op.drop_constraint('fk_entry_band_call_id_call', type_='foreignkey')
    with op.batch_alter_table('similar_entry', schema=None) as batch_op:
        batch_op.drop_constraint('fk_similar_entry_call_id_call', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('similar_entry', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_similar_entry_call_id_call', 'call', ['call_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('entry_band', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_entry_band_call_id_call', 'call', ['call_id'], ['id'], ondelete='CASCADE')
