"""Budget execution documents: BED No. 1 and BED No. 3 (issue 13 item 3,
docs/design.md §12 "Financial plan (BED No. 1 and No. 3)").

``execution_plan_lines``: a PPA's plan per month (1–12) of its fiscal year
and allotment class, the obligations planned (BED No. 1, the financial
plan) and the disbursements planned (BED No. 3, the monthly disbursement
program), in centavos, never negative; one line per PPA, month and class.
Lines are replaced as a whole plan by ``services.execution_plans`` and
audited like every budget row; they are a plan, not postings, so they
change freely (no append-only trigger).

A new table only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('execution_plan_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('allotment_class', sa.String(length=5), nullable=False),
    sa.Column('obligations_planned', db.types.Money(), nullable=False),
    sa.Column('disbursements_planned', db.types.Money(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_execution_plan_lines_month')),
    sa.CheckConstraint("allotment_class IN ('ps', 'mooe', 'finex', 'co')",
                       name=op.f('ck_execution_plan_lines_allotment_class')),
    sa.CheckConstraint('obligations_planned >= 0 AND disbursements_planned >= 0',
                       name=op.f('ck_execution_plan_lines_amounts_not_negative')),
    sa.ForeignKeyConstraint(['ppa_id'], ['ppas.id'], name=op.f('fk_execution_plan_lines_ppa_id_ppas'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_execution_plan_lines_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_execution_plan_lines')),
    sa.UniqueConstraint('ppa_id', 'month', 'allotment_class', name='uq_execution_plan_lines_ppa_month_class')
    )
    op.create_index(op.f('ix_execution_plan_lines_ppa_id'), 'execution_plan_lines', ['ppa_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_execution_plan_lines_ppa_id'), table_name='execution_plan_lines')
    op.drop_table('execution_plan_lines')
