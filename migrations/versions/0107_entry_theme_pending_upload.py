"""an entry says which of its call's themes it answers; pictures of a form sent back with an error are held

Revision ID: 0107
Revises: 0106
Create Date: 2026-12-02 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0107'
down_revision = '0106'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_pending_upload_image_id_image'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_pending_upload_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_upload')),
    sa.UniqueConstraint('image_id', name=op.f('uq_pending_upload_image_id'))
    )
    with op.batch_alter_table('pending_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_upload_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_upload_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_entry_theme_id_call_theme'), 'call_theme', ['theme_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_entry_theme_id_call_theme'), type_='foreignkey')
        batch_op.drop_column('theme_id')

    with op.batch_alter_table('pending_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_upload_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_upload_expires_at'))

    op.drop_table('pending_upload')
