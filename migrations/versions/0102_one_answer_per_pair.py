"""one citizen, one counted answer per unordered pair of a pairwise round; the pair shown is stored

Revision ID: 0102
Revises: 0007
Create Date: 2026-12-01 22:00:00.000000

Answers given before this revision may repeat a pair (every page view drew a new pair token). The earliest
answer per citizen and pair is kept; the later ones are voided with a reason, so they stop counting and the
results say how many there were and why.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0102'
down_revision = '0007'
branch_labels = None
depends_on = None

REPEATED = "同一人重复回答同一对作品，只计第一次 (the same person answered the same pair again: only the first counts)"


def upgrade():
    op.create_table('shown_pair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('left_id', sa.Integer(), nullable=False),
    sa.Column('right_id', sa.Integer(), nullable=False),
    sa.Column('shown_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('dropped_at', sa.DateTime(), nullable=True),
    sa.Column('refusals', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['left_id'], ['entry.id'], name=op.f('fk_shown_pair_left_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['right_id'], ['entry.id'], name=op.f('fk_shown_pair_right_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_shown_pair_round_id_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_shown_pair_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shown_pair')),
    sa.UniqueConstraint('round_id', 'user_id', 'nonce', name=op.f('uq_shown_pair_round_id_user_id_nonce'))
    )
    outstanding = sa.text('answered_at IS NULL AND dropped_at IS NULL')
    with op.batch_alter_table('shown_pair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shown_pair_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shown_pair_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_shown_pair_outstanding', ['round_id', 'user_id'], unique=True,
                              sqlite_where=outstanding, postgresql_where=outstanding)

    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.add_column(sa.Column('low_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('high_id', sa.Integer(), nullable=True))
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE comparison SET low_id = CASE WHEN left_id < right_id THEN left_id ELSE right_id END, "
        "high_id = CASE WHEN left_id < right_id THEN right_id ELSE left_id END"))
    # Keep the earliest counted answer of each citizen to each pair; void the later ones.
    connection.execute(sa.text(
        "UPDATE comparison SET voided_at = :now, voided_by_id = NULL, voided_reason = :reason "
        "WHERE voided_at IS NULL AND EXISTS (SELECT 1 FROM comparison AS earlier "
        "WHERE earlier.round_id = comparison.round_id AND earlier.user_id = comparison.user_id "
        "AND earlier.low_id = comparison.low_id AND earlier.high_id = comparison.high_id "
        "AND earlier.voided_at IS NULL AND (earlier.created_at < comparison.created_at "
        "OR (earlier.created_at = comparison.created_at AND earlier.id < comparison.id)))"),
        {"now": datetime.now(timezone.utc).replace(tzinfo=None), "reason": REPEATED})
    not_voided = sa.text('voided_at IS NULL')
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.alter_column('low_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('high_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_comparison_low_id_entry'), 'entry', ['low_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_comparison_high_id_entry'), 'entry', ['high_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_index('uq_comparison_one_answer_per_pair', ['round_id', 'user_id', 'low_id', 'high_id'],
                              unique=True, sqlite_where=not_voided, postgresql_where=not_voided)


def downgrade():
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.drop_index('uq_comparison_one_answer_per_pair')
        batch_op.drop_constraint(batch_op.f('fk_comparison_high_id_entry'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_comparison_low_id_entry'), type_='foreignkey')
        batch_op.drop_column('high_id')
        batch_op.drop_column('low_id')

    with op.batch_alter_table('shown_pair', schema=None) as batch_op:
        batch_op.drop_index('uq_shown_pair_outstanding')
        batch_op.drop_index(batch_op.f('ix_shown_pair_user_id'))
        batch_op.drop_index(batch_op.f('ix_shown_pair_round_id'))

    op.drop_table('shown_pair')
