"""n-of-m sign-off stages (issue 14 item 7, docs/design.md §6).

``signed_for`` on both history tables: the agency (organization code) or
role a sign-off in an n-of-m stage was signed for, so that each listed
agency signs at most once per stay in the stage and ``/actions`` can say
who is still awaited. Added columns only: no table is rebuilt, so SQLite
keeps the append-only triggers.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('ppa_transitions', sa.Column('signed_for', sa.String(length=40), nullable=True))
    op.add_column('workflow_transitions', sa.Column('signed_for', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workflow_transitions') as batch_op:
        batch_op.drop_column('signed_for')
    with op.batch_alter_table('ppa_transitions') as batch_op:
        batch_op.drop_column('signed_for')
