"""The PPA row links to its execution project, and SARO, ORS and DV numbers
are unique per organization (issue 10).

``ppas.execution_project_id`` was a subquery over ``work_items.ppa_id``,
evaluated on the snapshot a locking SELECT took before it waited; it becomes
a column of the PPA row (backfilled from ``work_items.ppa_id``), so a
decision under the row lock sees what the previous holder committed.

Allotments, obligations and disbursements get their MOA's
``organization_id`` (backfilled through program budget and PPA); their
numbers are unique per organization instead of across all of them. On
SQLite the three tables are rebuilt to drop the old constraints, and the
budget limit triggers of revision 0004 are created again on the new tables.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

import importlib

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

#: (table, reference number column, how to find a row's organization)
NUMBERED = (
    ("allotments", "saro_number",
     "SELECT p.organization_id FROM program_budgets b JOIN ppas p ON p.id = b.ppa_id "
     "WHERE b.id = allotments.program_budget_id"),
    ("obligations", "ors_number",
     "SELECT a.organization_id FROM allotments a WHERE a.id = obligations.allotment_id"),
    ("disbursements", "dv_number",
     "SELECT o.organization_id FROM obligations o WHERE o.id = disbursements.obligation_id"),
)


def _budget_execution():
    """Revision 0004's module: its trigger definitions are reused as they are."""
    return importlib.import_module("db.migrations.versions.0004_budget_execution")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('ppas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('execution_project_id', sa.Integer(), sa.ForeignKey(
            'work_items.id', name=op.f('fk_ppas_execution_project_id_work_items'), use_alter=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_ppas_execution_project_id'), ['execution_project_id'], unique=True)
    op.execute("UPDATE ppas SET execution_project_id = "
               "(SELECT w.id FROM work_items w WHERE w.ppa_id = ppas.id)")

    for table, number, organization in NUMBERED:  # in chain order: each backfill reads the level above
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET organization_id = ({organization})")
    budget_execution = _budget_execution()
    if sqlite:  # the rebuilt tables lose their triggers: drop the rest, create them all again below
        _drop_sqlite_limit_triggers(budget_execution.LIMITS)
    for table, number, _ in NUMBERED:
        with op.batch_alter_table(table, schema=None, recreate="always" if sqlite else "auto") as batch_op:
            batch_op.alter_column('organization_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_organization_id_organizations'), 'organizations',
                                        ['organization_id'], ['id'])
            batch_op.drop_constraint(f'uq_{table}_{number}', type_='unique')
            batch_op.create_unique_constraint(f'uq_{table}_{number}', ['organization_id', number])
    if sqlite:
        for limit in budget_execution.LIMITS:
            budget_execution.create_limit_triggers(*limit)


def _drop_sqlite_limit_triggers(limits) -> None:
    for child, _fk, _off, parent, *_ in limits:
        for name in (f"{child}_within_{parent}_insert", f"{child}_within_{parent}_update", f"{parent}_covers_{child}"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    budget_execution = _budget_execution()
    if sqlite:
        _drop_sqlite_limit_triggers(budget_execution.LIMITS)
    for table, number, _ in reversed(NUMBERED):
        with op.batch_alter_table(table, schema=None, recreate="always" if sqlite else "auto") as batch_op:
            batch_op.drop_constraint(f'uq_{table}_{number}', type_='unique')
            batch_op.create_unique_constraint(f'uq_{table}_{number}', [number])
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_organization_id_organizations'), type_='foreignkey')
            batch_op.drop_column('organization_id')
    if sqlite:
        for limit in budget_execution.LIMITS:
            budget_execution.create_limit_triggers(*limit)
    with op.batch_alter_table('ppas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ppas_execution_project_id'))
        if not sqlite:
            batch_op.drop_constraint(batch_op.f('fk_ppas_execution_project_id_work_items'), type_='foreignkey')
        batch_op.drop_column('execution_project_id')
