"""Tree version (issue 17 item 2, docs/design.md §5 "The budget tree is
cached"): a counter on ``work_items`` that every write to a tree bumps on
its root row (``services.trees.bump_tree_version``), so the cached budget
tree of a PPA is keyed by one column read with the PPA. Only the root's
value means anything; the others stay at 1.

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tree_version', sa.Integer(), server_default=sa.text('1'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_column('tree_version')
