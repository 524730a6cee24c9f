"""citizens follow calls; a round remembers when its call's followers were told it opened

Revision ID: 0111
Revises: 0107
Create Date: 2026-12-02 06:00:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0111'
down_revision = '0110'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('call_follower',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('stopped_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_call_follower_call_id_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_call_follower_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'user_id', name=op.f('pk_call_follower'))
    )
    with op.batch_alter_table('call_follower', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_follower_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_told_at', sa.DateTime(), nullable=True))
    # Rounds already open or over were never announced and nobody follows yet: they are not news any more.
    # (Rounds still to open are told when they open.)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.get_bind().execute(sa.text("UPDATE round SET opening_told_at = opens_at WHERE opens_at <= :now"), {"now": now})


def downgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_column('opening_told_at')

    with op.batch_alter_table('call_follower', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_follower_user_id'))

    op.drop_table('call_follower')
