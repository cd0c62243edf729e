"""Budget scenarios and their allocations per PPA (issue 16 items 1-2,
docs/design.md §17).

``scenarios``: a named what-if budget (ceiling, baseline or not, the fiscal
year it was copied from). ``scenario_allocations``: one amount per PPA and
scenario, with its justification. New tables only: no table is rebuilt.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('ceiling', db.types.Money(), nullable=False),
    sa.Column('baseline', sa.Boolean(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('ceiling >= 0', name=op.f('ck_scenarios_ceiling_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_scenarios_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenarios'))
    )
    op.create_table('scenario_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=False),
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('amount', db.types.Money(), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_scenario_allocations_amount_not_negative')),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenarios.id'],
                            name=op.f('fk_scenario_allocations_scenario_id_scenarios'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ppa_id'], ['ppas.id'], name=op.f('fk_scenario_allocations_ppa_id_ppas'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_allocations')),
    sa.UniqueConstraint('scenario_id', 'ppa_id', name='uq_scenario_allocations_scenario_ppa')
    )
    op.create_index(op.f('ix_scenario_allocations_ppa_id'), 'scenario_allocations', ['ppa_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_scenario_allocations_ppa_id'), table_name='scenario_allocations')
    op.drop_table('scenario_allocations')
    op.drop_table('scenarios')
