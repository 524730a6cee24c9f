"""the results snapshot in two parts: its summary on the call, each row of the ranking (with its entry's place in
every round) a row of result_row keyed by its position; the snapshots already published are split

Revision ID: 0119
Revises: 0112
Create Date: 2026-12-02 11:50:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0119'
down_revision = '0112'
branch_labels = None
depends_on = None


def _split(whole: dict) -> tuple[dict, list[dict]]:
    """A whole snapshot (version 1) as its summary and its row records (contest.snapshot's stored form)."""
    places: dict[str, dict] = {}
    rounds = []
    for summary in whole.get("rounds") or []:
        for entry, place in (summary.get("places") or {}).items():
            places.setdefault(entry, {})[str(summary["id"])] = place
        rounds.append({**summary, "places": {}})
    rows = [{**row, "places": places.get(str(row["entry"]), {})} for row in whole.get("rows") or []]
    summary = {"version": whole.get("version", 1), "part": "summary", "computed_at": whole.get("computed_at"),
               "formula": whole.get("formula") or {}, "rounds": rounds, "figures": whole.get("figures") or {},
               "ranked": len(rows), "finalists": sum(1 for row in rows if row.get("finalist"))}
    return summary, rows


def _join(summary: dict, rows: list[dict]) -> dict:
    places: dict[str, dict] = {}
    for row in rows:
        for round_id, place in (row.get("places") or {}).items():
            places.setdefault(round_id, {})[str(row["entry"])] = place
    rounds = [{**r, "places": places.get(str(r["id"]), {})} for r in summary.get("rounds") or []]
    return {"version": summary.get("version", 1), "computed_at": summary.get("computed_at"),
            "formula": summary.get("formula") or {},
            "rows": [{k: v for k, v in row.items() if k != "places"} for row in rows],
            "rounds": rounds, "figures": summary.get("figures") or {}}


def _value(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade():
    op.create_table(
        'result_row',
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=True),
        sa.Column('finalist', sa.Boolean(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_result_row_call_id_call'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_result_row_entry_id_entry'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('call_id', 'position', name=op.f('pk_result_row')),
        sa.UniqueConstraint('call_id', 'entry_id', name=op.f('uq_result_row_call_id_entry_id')),
    )
    with op.batch_alter_table('result_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_row_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_result_row_rank', ['call_id', 'rank'], unique=False)

    bind = op.get_bind()
    call = sa.table('call', sa.column('id', sa.Integer), sa.column('results_snapshot', sa.JSON))
    result_row = sa.table('result_row', sa.column('call_id', sa.Integer), sa.column('position', sa.Integer),
                          sa.column('entry_id', sa.Integer), sa.column('rank', sa.Integer),
                          sa.column('finalist', sa.Boolean), sa.column('data', sa.JSON))
    entries = {e for (e,) in bind.execute(sa.text('SELECT id FROM entry'))}
    for call_id, whole in bind.execute(sa.select(call.c.id, call.c.results_snapshot)
                                       .where(call.c.results_snapshot.is_not(None))).all():
        summary, rows = _split(_value(whole))
        rows = [row for row in rows if row["entry"] in entries]
        if rows:
            bind.execute(result_row.insert(), [
                {"call_id": call_id, "position": n, "entry_id": row["entry"], "rank": row.get("rank"),
                 "finalist": bool(row.get("finalist")), "data": row} for n, row in enumerate(rows)])
        bind.execute(call.update().where(call.c.id == call_id).values(results_snapshot=summary))


def downgrade():
    bind = op.get_bind()
    call = sa.table('call', sa.column('id', sa.Integer), sa.column('results_snapshot', sa.JSON))
    for call_id, summary in bind.execute(sa.select(call.c.id, call.c.results_snapshot)
                                         .where(call.c.results_snapshot.is_not(None))).all():
        rows = [_value(data) for (data,) in bind.execute(
            sa.text('SELECT data FROM result_row WHERE call_id = :call ORDER BY position'), {"call": call_id})]
        bind.execute(call.update().where(call.c.id == call_id).values(results_snapshot=_join(_value(summary), rows)))
    with op.batch_alter_table('result_row', schema=None) as batch_op:
        batch_op.drop_index('ix_result_row_rank')
        batch_op.drop_index(batch_op.f('ix_result_row_entry_id'))
    op.drop_table('result_row')
