"""Stored rollups on work items (issue 17 item 1, docs/design.md §4
"Stored rollups"): each item keeps its rolled-up expenditure (centavos), its
exact rolled-up progress and the aggregate of its children (JSON); the root
keeps the key of the rules they were computed under. Existing trees start
with no key, so the first write (or ``ppaflow wbs verify``) computes theirs;
until then reads roll them up in memory, as before.

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_items') as batch:
        batch.add_column(sa.Column('rolled_expended', sa.BigInteger(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('rolled_progress', sa.Text(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('rollup', sa.Text(), nullable=True))
        batch.add_column(sa.Column('rollup_key', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('work_items') as batch:
        batch.drop_column('rollup_key')
        batch.drop_column('rollup')
        batch.drop_column('rolled_progress')
        batch.drop_column('rolled_expended')
