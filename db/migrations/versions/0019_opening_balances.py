"""Year end: opening balances (issue 12 item 5, docs/design.md §12 "Year end").

``opening_balances``: what the close of a MOA's Q4 carries into the next
fiscal year, one row per allotment (continuing appropriation: its
unobligated balance still valid for obligation) or per obligation (unpaid
obligation: its obligated amount not yet paid, still valid for payment),
in centavos, with the validity deadline and legal basis it is carried
under. The rows belong to the Q4 closure that carried them: one per
allotment (and obligation) per closure (a unique constraint, and a
partial unique index for continuing appropriations, on PostgreSQL and
SQLite alike). Append-only: triggers refuse UPDATE and DELETE on both
databases (``append_only`` of revision 0001; ``db.migrate.APPEND_ONLY_TABLES``).

A new table only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

import importlib

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('opening_balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('closure_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('appropriation_year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('allotment_id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=True),
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('program_budget_id', sa.Integer(), nullable=False),
    sa.Column('pap_code', sa.String(length=40), nullable=False),
    sa.Column('allotment_class', sa.String(length=5), nullable=False),
    sa.Column('validity_category', sa.String(length=30), nullable=False),
    sa.Column('amount', db.types.Money(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('continuing_appropriation', 'unpaid_obligation')",
                       name=op.f('ck_opening_balances_kind')),
    sa.CheckConstraint("allotment_class IN ('ps', 'mooe', 'finex', 'co')",
                       name=op.f('ck_opening_balances_allotment_class')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_opening_balances_amount_positive')),
    sa.CheckConstraint("(kind = 'unpaid_obligation') = (obligation_id IS NOT NULL)",
                       name=op.f('ck_opening_balances_obligation')),
    sa.ForeignKeyConstraint(['closure_id'], ['period_closures.id'],
                            name=op.f('fk_opening_balances_closure_id_period_closures'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_opening_balances_organization_id_organizations')),
    sa.ForeignKeyConstraint(['allotment_id'], ['allotments.id'],
                            name=op.f('fk_opening_balances_allotment_id_allotments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligations.id'],
                            name=op.f('fk_opening_balances_obligation_id_obligations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ppa_id'], ['ppas.id'], name=op.f('fk_opening_balances_ppa_id_ppas')),
    sa.ForeignKeyConstraint(['program_budget_id'], ['program_budgets.id'],
                            name=op.f('fk_opening_balances_program_budget_id_program_budgets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_balances')),
    sa.UniqueConstraint('closure_id', 'kind', 'allotment_id', 'obligation_id', name='uq_opening_balances_row')
    )
    op.create_index(op.f('ix_opening_balances_closure_id'), 'opening_balances', ['closure_id'], unique=False)
    op.create_index(op.f('ix_opening_balances_organization_id'), 'opening_balances', ['organization_id'],
                    unique=False)
    op.create_index('uq_opening_balances_continuing', 'opening_balances', ['closure_id', 'allotment_id'],
                    unique=True, postgresql_where=sa.text("obligation_id IS NULL"),
                    sqlite_where=sa.text("obligation_id IS NULL"))
    importlib.import_module("db.migrations.versions.0001_initial_schema").append_only("opening_balances")


def downgrade() -> None:
    op.drop_index('uq_opening_balances_continuing', table_name='opening_balances')
    op.drop_index(op.f('ix_opening_balances_organization_id'), table_name='opening_balances')
    op.drop_index(op.f('ix_opening_balances_closure_id'), table_name='opening_balances')
    op.drop_table('opening_balances')
