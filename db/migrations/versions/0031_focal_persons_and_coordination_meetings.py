"""A MOA's focal persons (at most one current primary per MOA, a partial
unique index) and quarterly coordination meetings (issue 15 item 6,
docs/design.md §16 "Focal persons and coordination meetings").

New tables only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

CURRENT_PRIMARY = "ended_on IS NULL AND kind = 'primary'"


def _stamps() -> list[sa.Column]:
    return [sa.Column('version', sa.Integer(), nullable=False),
            sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
            sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table('focal_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('appointed_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    *_stamps(),
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= appointed_on',
                       name=op.f('ck_focal_persons_ended_after_appointed')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_focal_persons_organization_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_focal_persons_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focal_persons'))
    )
    op.create_index(op.f('ix_focal_persons_organization_id'), 'focal_persons', ['organization_id'], unique=False)
    op.create_index('uq_focal_persons_current_primary', 'focal_persons', ['organization_id'], unique=True,
                    postgresql_where=sa.text(CURRENT_PRIMARY), sqlite_where=sa.text(CURRENT_PRIMARY))
    op.create_table('coordination_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('report_due_on', sa.Date(), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    *_stamps(),
    sa.CheckConstraint('fiscal_year BETWEEN 2000 AND 2100',
                       name=op.f('ck_coordination_meetings_fiscal_year_a_year')),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_coordination_meetings_quarter_1_to_4')),
    sa.CheckConstraint('report_due_on <= held_on', name=op.f('ck_coordination_meetings_report_due_before_meeting')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_coordination_meetings_organization_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_coordination_meetings_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordination_meetings'))
    )
    op.create_index(op.f('ix_coordination_meetings_organization_id'), 'coordination_meetings', ['organization_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_coordination_meetings_organization_id'), table_name='coordination_meetings')
    op.drop_table('coordination_meetings')
    op.drop_index('uq_focal_persons_current_primary', table_name='focal_persons',
                  postgresql_where=sa.text(CURRENT_PRIMARY), sqlite_where=sa.text(CURRENT_PRIMARY))
    op.drop_index(op.f('ix_focal_persons_organization_id'), table_name='focal_persons')
    op.drop_table('focal_persons')
