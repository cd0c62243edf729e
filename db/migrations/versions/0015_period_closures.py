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

New tables only: no table is rebuilt, so SQLite keeps every trigger.

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


def downgrade() -> None:
    op.drop_index(op.f('ix_period_snapshot_lines_closure_id'), table_name='period_snapshot_lines')
    op.drop_table('period_snapshot_lines')
    op.drop_index(op.f('ix_period_closure_signatures_closure_id'), table_name='period_closure_signatures')
    op.drop_table('period_closure_signatures')
    op.drop_index('uq_period_closures_current', table_name='period_closures')
    op.drop_index(op.f('ix_period_closures_organization_id'), table_name='period_closures')
    op.drop_table('period_closures')
