"""Calendar feeds (issue 16 item 5, docs/design.md §15 "Calendar feeds"):
one row per user and scope (``mine`` or ``moa``); the URL's secret is an
HMAC of the row's id and generation, so no secret is stored. New table only.

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("scope IN ('mine', 'moa')", name=op.f('ck_calendar_feeds_scope_known')),
    sa.CheckConstraint("(scope = 'moa') = (organization_id IS NOT NULL)",
                       name=op.f('ck_calendar_feeds_moa_feed_names_its_moa')),
    sa.CheckConstraint('generation >= 1', name=op.f('ck_calendar_feeds_generation_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feeds_user_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_calendar_feeds_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds'))
    )
    op.create_index('uq_calendar_feeds_user_scope', 'calendar_feeds', ['user_id', 'scope'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_calendar_feeds_user_scope', table_name='calendar_feeds')
    op.drop_table('calendar_feeds')
