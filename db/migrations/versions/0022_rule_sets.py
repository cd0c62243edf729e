"""Rule sets are versions (issue 14 item 1, docs/design.md §13).

``rule_sets``: every rule set that governs anything, by its SHA-256 hash
(the one recorded on every history row), with every file's name and text,
when it was first stored, and the latest activation (when, by whom). At
most one row is ``active``: a partial unique index on ``active WHERE
active`` (PostgreSQL and SQLite both have partial indexes), so no statement,
however written, can leave two sets active.

The rows are written by ``ppaflow init-db`` and ``ppaflow rules activate``
and by the app at start (``services.rule_sets``), never by this migration:
the schema does not depend on a rules folder.

A new table only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rule_sets',
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('loaded_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('activated_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('activated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('length(hash) = 64', name=op.f('ck_rule_sets_hash_is_sha256')),
    sa.ForeignKeyConstraint(['activated_by_id'], ['users.id'], name=op.f('fk_rule_sets_activated_by_id_users')),
    sa.PrimaryKeyConstraint('hash', name=op.f('pk_rule_sets'))
    )
    op.create_index('uq_rule_sets_one_active', 'rule_sets', ['active'], unique=True,
                    postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))


def downgrade() -> None:
    op.drop_index('uq_rule_sets_one_active', table_name='rule_sets')
    op.drop_table('rule_sets')
