"""the worker's jobs for a call's results: computing a large call's snapshot and mailing its entrants of the
publication, each with its state, progress and lease (results_job)

Revision ID: 0123
Revises: 0121
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0123'
down_revision = '0121'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('results_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('snapshot', 'mail', name='jobkind', native_enum=False, length=20), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'failed', 'done', name='jobstate', native_enum=False,
                               length=20), nullable=False),
    sa.Column('generation', sa.Integer(), server_default='0', nullable=False),
    sa.Column('stage', sa.String(length=40), server_default='', nullable=False),
    sa.Column('done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_results_job_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_results_job')),
    sa.UniqueConstraint('call_id', 'kind', name=op.f('uq_results_job_call_id_kind'))
    )


def downgrade():
    op.drop_table('results_job')
