"""Closing a period (issue 12 item 5, docs/design.md §12 "Closing a period").

``period_closures``: the closing of one quarter of one year for one MOA,
with its status (closing, closed, reopening, reopened); at most one
closure of a MOA's quarter is not reopened (a partial unique index, on
PostgreSQL and SQLite alike).

``period_closure_signatures``: the budget officer's and the chief
accountant's signatures to close or reopen; one person signs an action
once, and each role is signed once (unique constraints). Append-only.

``period_snapshot_lines``: a closed quarter's figures per program budget
(PAP) and allotment class, in centavos, as they stood at the close.
Append-only: triggers refuse UPDATE and DELETE on both databases
(``append_only`` of revision 0001; ``db.migrate.APPEND_ONLY_TABLES``).

Postings dated inside a closed period are refused by the database too
(``period_open`` triggers, PostgreSQL and SQLite): an INSERT of an
allotment, obligation, disbursement, allotment adjustment, NORSA or
delivery dated in a quarter its MOA has closed (a closure ``closed`` or
``reopening``), and an UPDATE that sets a cancellation's or void's date in
one. The application refuses first, with its sentence (``services.periods``);
the triggers stop raw SQL.

New tables and triggers only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

import importlib

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('period_closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('closed_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopened_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopen_reason', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('closing', 'closed', 'reopening', 'reopened')",
                       name=op.f('ck_period_closures_status')),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_period_closures_quarter')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_period_closures_organization_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_period_closures_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_closures'))
    )
    op.create_index(op.f('ix_period_closures_organization_id'), 'period_closures', ['organization_id'], unique=False)
    op.create_index('uq_period_closures_current', 'period_closures', ['organization_id', 'fiscal_year', 'quarter'],
                    unique=True, postgresql_where=sa.text("status <> 'reopened'"),
                    sqlite_where=sa.text("status <> 'reopened'"))

    op.create_table('period_closure_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('closure_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=6), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('superuser', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('close', 'reopen')", name=op.f('ck_period_closure_signatures_action')),
    sa.CheckConstraint("role IN ('budget_officer', 'chief_accountant')",
                       name=op.f('ck_period_closure_signatures_role')),
    sa.ForeignKeyConstraint(['closure_id'], ['period_closures.id'],
                            name=op.f('fk_period_closure_signatures_closure_id_period_closures'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_period_closure_signatures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_closure_signatures')),
    sa.UniqueConstraint('closure_id', 'action', 'user_id', name='uq_period_closure_signatures_person'),
    sa.UniqueConstraint('closure_id', 'action', 'role', name='uq_period_closure_signatures_role')
    )
    op.create_index(op.f('ix_period_closure_signatures_closure_id'), 'period_closure_signatures', ['closure_id'],
                    unique=False)

    op.create_table('period_snapshot_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('closure_id', sa.Integer(), nullable=False),
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('program_budget_id', sa.Integer(), nullable=False),
    sa.Column('pap_code', sa.String(length=40), nullable=False),
    sa.Column('allotment_class', sa.String(length=5), nullable=False),
    *(sa.Column(name, db.types.Money(), nullable=False) for name in (
        'allotted', 'obligated', 'disbursed', 'cumulative_allotted', 'cumulative_obligated',
        'cumulative_disbursed')),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("allotment_class IN ('ps', 'mooe', 'finex', 'co')",
                       name=op.f('ck_period_snapshot_lines_allotment_class')),
    sa.ForeignKeyConstraint(['closure_id'], ['period_closures.id'],
                            name=op.f('fk_period_snapshot_lines_closure_id_period_closures'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ppa_id'], ['ppas.id'], name=op.f('fk_period_snapshot_lines_ppa_id_ppas')),
    sa.ForeignKeyConstraint(['program_budget_id'], ['program_budgets.id'],
                            name=op.f('fk_period_snapshot_lines_program_budget_id_program_budgets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_snapshot_lines'))
    )
    op.create_index(op.f('ix_period_snapshot_lines_closure_id'), 'period_snapshot_lines', ['closure_id'],
                    unique=False)

    initial = importlib.import_module("db.migrations.versions.0001_initial_schema")
    initial.append_only("period_closure_signatures")
    initial.append_only("period_snapshot_lines")
    _period_open_triggers()


#: (table, date column, on UPDATE of that column rather than on INSERT): every posting's date.
POSTING_DATES = (
    ("allotments", "release_date", False), ("obligations", "obligation_date", False),
    ("disbursements", "disbursement_date", False), ("allotment_adjustments", "adjustment_date", False),
    ("obligation_adjustments", "adjustment_date", False), ("obligation_deliveries", "accepted_on", False),
    ("allotments", "cancelled_on", True), ("obligations", "cancelled_on", True),
    ("disbursements", "voided_on", True),
)

CLOSED = "c.status IN ('closed', 'reopening')"


def _trigger_name(table: str, column: str) -> str:
    return f"{table}_{column}_period_open"


def _period_open_triggers() -> None:
    """Refuse a posting dated in a closed period (see the module docstring)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION ppaflow_period_open() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE day date := (to_jsonb(NEW) ->> TG_ARGV[0])::date; BEGIN "
            "IF day IS NOT NULL AND EXISTS (SELECT 1 FROM period_closures c "
            "WHERE c.organization_id = NEW.organization_id AND c.fiscal_year = extract(year FROM day) "
            f"AND c.quarter = extract(quarter FROM day) AND {CLOSED}) THEN "
            "RAISE EXCEPTION 'period_closed: % % is in a closed period of its MOA; post the correction in the "
            "open period', TG_TABLE_NAME, day; END IF; RETURN NEW; END $$")
        for table, column, on_update in POSTING_DATES:
            event = f"UPDATE OF {column}" if on_update else "INSERT"
            when = f" WHEN (OLD.{column} IS DISTINCT FROM NEW.{column})" if on_update else ""
            op.execute(f"CREATE TRIGGER {_trigger_name(table, column)} BEFORE {event} ON {table} "
                       f"FOR EACH ROW{when} EXECUTE FUNCTION ppaflow_period_open('{column}')")
        return
    for table, column, on_update in POSTING_DATES:
        event = f"UPDATE OF {column}" if on_update else "INSERT"
        changed = f"OLD.{column} IS NOT NEW.{column} AND " if on_update else ""
        op.execute(
            f"CREATE TRIGGER {_trigger_name(table, column)} BEFORE {event} ON {table} "
            f"WHEN {changed}NEW.{column} IS NOT NULL AND EXISTS (SELECT 1 FROM period_closures c "
            f"WHERE c.organization_id = NEW.organization_id "
            f"AND c.fiscal_year = CAST(strftime('%Y', NEW.{column}) AS INTEGER) "
            f"AND c.quarter = (CAST(strftime('%m', NEW.{column}) AS INTEGER) + 2) / 3 AND {CLOSED}) "
            f"BEGIN SELECT RAISE(ABORT, 'period_closed: {table} {column} is in a closed period of its MOA; "
            "post the correction in the open period'); END")


def downgrade() -> None:
    for table, column, _ in POSTING_DATES:
        op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, column)}"
                   + (f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ppaflow_period_open()")
    op.drop_index(op.f('ix_period_snapshot_lines_closure_id'), table_name='period_snapshot_lines')
    op.drop_table('period_snapshot_lines')
    op.drop_index(op.f('ix_period_closure_signatures_closure_id'), table_name='period_closure_signatures')
    op.drop_table('period_closure_signatures')
    op.drop_index('uq_period_closures_current', table_name='period_closures')
    op.drop_index(op.f('ix_period_closures_organization_id'), table_name='period_closures')
    op.drop_table('period_closures')
