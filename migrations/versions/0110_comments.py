"""comments on entries and calls, their endorsements and reports; a call closes its comments

Revision ID: 0110
Revises: 0107
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0110'
down_revision = '0107'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('by_entrant', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.Enum('visible', 'pending', 'hidden', name='commentstatus', native_enum=False,
                                length=20), nullable=False),
    sa.Column('endorsements', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('hidden_reason', sa.Text(), nullable=False),
    sa.Column('moderated_at', sa.DateTime(), nullable=True),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_comment_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_comment_call_id_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_comment_department_id_department'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_comment_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['user.id'], name=op.f('fk_comment_moderated_by_id_user'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['comment.id'], name=op.f('fk_comment_parent_id_comment'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        for column in ('author_id', 'call_id', 'created_at', 'entry_id', 'parent_id'):
            batch_op.create_index(batch_op.f(f'ix_comment_{column}'), [column], unique=False)

    for table in ('comment_endorsement', 'comment_report'):
        columns = [
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('comment_id', sa.Integer(), nullable=False),
            sa.Column('user_id', sa.Integer(), nullable=False),
        ]
        if table == 'comment_report':
            columns += [
                sa.Column('category', sa.Enum('spam', 'abuse', 'personal_data', 'off_topic', name='reportcategory',
                                              native_enum=False, length=20), nullable=False),
                sa.Column('reason', sa.Text(), nullable=False),
            ]
        columns.append(sa.Column('created_at', sa.DateTime(), nullable=False))
        if table == 'comment_report':
            columns.append(sa.Column('reviewed', sa.Boolean(), nullable=False))
        op.create_table(table, *columns,
            sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f(f'fk_{table}_comment_id_comment'),
                                    ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f(f'fk_{table}_user_id_user'),
                                    ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
            sa.UniqueConstraint('comment_id', 'user_id', name=op.f(f'uq_{table}_comment_id_user_id'))
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_comment_id'), ['comment_id'], unique=False)
            batch_op.create_index(batch_op.f(f'ix_{table}_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comments_open', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('comments_closed_while_judging', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('comments_closed_while_judging')
        batch_op.drop_column('comments_open')
    op.drop_table('comment_report')
    op.drop_table('comment_endorsement')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        for column in ('author_id', 'call_id', 'created_at', 'entry_id', 'parent_id'):
            batch_op.drop_index(batch_op.f(f'ix_comment_{column}'))
    op.drop_table('comment')
