"""Community needs, their votes and the PPAs that address them (issue 15
items 1-2, docs/design.md §14).

``needs``: a need, its place by PSGC codes, its stage in the ``need``
workflow (rules), its vote count and weighted total. ``need_votes``: one
row per vote, at most one per user and need (``uq_need_votes_need_user``:
the database, not the code, refuses a second vote, whatever the timing).
``ppa_needs``: which PPAs address which needs. ``users.stakeholder_type``:
who a user votes as (the weight comes from needs.yaml).

New tables and one added nullable column: no table is rebuilt, so SQLite
keeps every trigger.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('stakeholder_type', sa.String(length=40), nullable=True))
    op.create_table('needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('urgency', sa.String(length=40), nullable=False),
    sa.Column('submission_type', sa.String(length=40), nullable=False),
    sa.Column('province_code', sa.String(length=10), nullable=True),
    sa.Column('municipality_code', sa.String(length=10), nullable=True),
    sa.Column('barangay_code', sa.String(length=10), nullable=True),
    sa.Column('population_affected', sa.Integer(), nullable=True),
    sa.Column('estimated_cost', db.types.Money(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('budget_included_on', sa.Date(), nullable=True),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.Column('vote_weight', sa.Integer(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('population_affected IS NULL OR population_affected >= 0',
                       name=op.f('ck_needs_population_not_negative')),
    sa.CheckConstraint('estimated_cost IS NULL OR estimated_cost >= 0', name=op.f('ck_needs_cost_not_negative')),
    sa.CheckConstraint('votes >= 0 AND vote_weight >= 0', name=op.f('ck_needs_votes_not_negative')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_needs_organization_id_organizations')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_needs_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_needs'))
    )
    op.create_index(op.f('ix_needs_category'), 'needs', ['category'], unique=False)
    op.create_index(op.f('ix_needs_province_code'), 'needs', ['province_code'], unique=False)
    op.create_index(op.f('ix_needs_status'), 'needs', ['status'], unique=False)
    op.create_index(op.f('ix_needs_organization_id'), 'needs', ['organization_id'], unique=False)
    op.create_table('need_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('stakeholder_type', sa.String(length=40), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('weight >= 1', name=op.f('ck_need_votes_weight_positive')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_need_votes_need_id_needs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_need_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_votes')),
    sa.UniqueConstraint('need_id', 'user_id', name='uq_need_votes_need_user')
    )
    op.create_index(op.f('ix_need_votes_user_id'), 'need_votes', ['user_id'], unique=False)
    op.create_table('ppa_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ppa_id'], ['ppas.id'], name=op.f('fk_ppa_needs_ppa_id_ppas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_ppa_needs_need_id_needs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], name=op.f('fk_ppa_needs_linked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ppa_needs')),
    sa.UniqueConstraint('ppa_id', 'need_id', name='uq_ppa_needs_ppa_need')
    )
    op.create_index(op.f('ix_ppa_needs_need_id'), 'ppa_needs', ['need_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ppa_needs_need_id'), table_name='ppa_needs')
    op.drop_table('ppa_needs')
    op.drop_index(op.f('ix_need_votes_user_id'), table_name='need_votes')
    op.drop_table('need_votes')
    for column in ('organization_id', 'status', 'province_code', 'category'):
        op.drop_index(op.f(f'ix_needs_{column}'), table_name='needs')
    op.drop_table('needs')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('stakeholder_type')
