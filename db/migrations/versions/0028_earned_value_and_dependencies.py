"""Earned value baselines and finish-to-start dependencies between work
items (issue 16 items 3-4, docs/design.md "Earned value and critical path").

``ev_baselines``: one per PPA, when captured and whether late (enacted
before this feature). ``ev_baseline_items``: each work item's allocation and
dates as baselined. ``work_item_dependencies``: predecessor -> successor
within one WBS.

New tables only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ev_baselines',
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('captured_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('captured_late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['ppa_id'], ['ppas.id'], name=op.f('fk_ev_baselines_ppa_id_ppas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ppa_id', name=op.f('pk_ev_baselines'))
    )
    op.create_table('ev_baseline_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('budget', db.types.Money(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['ppa_id'], ['ev_baselines.ppa_id'], name=op.f('fk_ev_baseline_items_ppa_id_ev_baselines'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'],
                            name=op.f('fk_ev_baseline_items_work_item_id_work_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ev_baseline_items')),
    sa.UniqueConstraint('ppa_id', 'work_item_id', name='uq_ev_baseline_items_ppa_item')
    )
    op.create_index(op.f('ix_ev_baseline_items_ppa_id'), 'ev_baseline_items', ['ppa_id'], unique=False)
    op.create_table('work_item_dependencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('root_id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('predecessor_id <> successor_id', name=op.f('ck_work_item_dependencies_not_itself')),
    sa.ForeignKeyConstraint(['root_id'], ['work_items.id'], name=op.f('fk_work_item_dependencies_root_id_work_items'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['predecessor_id'], ['work_items.id'],
                            name=op.f('fk_work_item_dependencies_predecessor_id_work_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['successor_id'], ['work_items.id'],
                            name=op.f('fk_work_item_dependencies_successor_id_work_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_work_item_dependencies_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_item_dependencies')),
    sa.UniqueConstraint('predecessor_id', 'successor_id', name='uq_work_item_dependencies_pair')
    )
    op.create_index(op.f('ix_work_item_dependencies_root_id'), 'work_item_dependencies', ['root_id'], unique=False)
    op.create_index(op.f('ix_work_item_dependencies_successor_id'), 'work_item_dependencies', ['successor_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_work_item_dependencies_successor_id'), table_name='work_item_dependencies')
    op.drop_index(op.f('ix_work_item_dependencies_root_id'), table_name='work_item_dependencies')
    op.drop_table('work_item_dependencies')
    op.drop_index(op.f('ix_ev_baseline_items_ppa_id'), table_name='ev_baseline_items')
    op.drop_table('ev_baseline_items')
    op.drop_table('ev_baselines')
