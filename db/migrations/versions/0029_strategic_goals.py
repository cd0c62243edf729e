"""Strategic goals of the development plan, policies, annual planning
cycles, and the links of PPAs and policies to goals (issue 15 item 4,
docs/design.md §16).

New tables only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [sa.Column('version', sa.Integer(), nullable=False),
            sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
            sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table('strategic_goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('target_year', sa.Integer(), nullable=False),
    sa.Column('lead_organization_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    *_stamps(),
    sa.CheckConstraint('target_year BETWEEN 2000 AND 2100', name=op.f('ck_strategic_goals_target_year_a_year')),
    sa.ForeignKeyConstraint(['lead_organization_id'], ['organizations.id'],
                            name=op.f('fk_strategic_goals_lead_organization_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_strategic_goals_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strategic_goals'))
    )
    op.create_table('policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('milestones', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    *_stamps(),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_policies_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policies'))
    )
    op.create_table('planning_cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('planning_starts_on', sa.Date(), nullable=False),
    sa.Column('budget_approved_on', sa.Date(), nullable=True),
    *_stamps(),
    sa.CheckConstraint('fiscal_year BETWEEN 2000 AND 2100', name=op.f('ck_planning_cycles_fiscal_year_a_year')),
    sa.CheckConstraint('budget_approved_on IS NULL OR budget_approved_on >= planning_starts_on',
                       name=op.f('ck_planning_cycles_approval_after_start')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_cycles')),
    sa.UniqueConstraint('fiscal_year', name=op.f('uq_planning_cycles_fiscal_year'))
    )
    op.create_table('goal_ppas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['strategic_goals.id'], name=op.f('fk_goal_ppas_goal_id_strategic_goals'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ppa_id'], ['ppas.id'], name=op.f('fk_goal_ppas_ppa_id_ppas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], name=op.f('fk_goal_ppas_linked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_ppas')),
    sa.UniqueConstraint('goal_id', 'ppa_id', name='uq_goal_ppas_goal_ppa')
    )
    op.create_index(op.f('ix_goal_ppas_ppa_id'), 'goal_ppas', ['ppa_id'], unique=False)
    op.create_table('goal_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['strategic_goals.id'],
                            name=op.f('fk_goal_policies_goal_id_strategic_goals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_goal_policies_policy_id_policies'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_policies')),
    sa.UniqueConstraint('goal_id', 'policy_id', name='uq_goal_policies_goal_policy')
    )
    op.create_index(op.f('ix_goal_policies_policy_id'), 'goal_policies', ['policy_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_goal_policies_policy_id'), table_name='goal_policies')
    op.drop_table('goal_policies')
    op.drop_index(op.f('ix_goal_ppas_ppa_id'), table_name='goal_ppas')
    op.drop_table('goal_ppas')
    op.drop_table('planning_cycles')
    op.drop_table('policies')
    op.drop_table('strategic_goals')
