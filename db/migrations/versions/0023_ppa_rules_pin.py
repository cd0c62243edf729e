"""In-flight PPAs are pinned to their rule set (issue 14 item 2,
docs/design.md §13).

``ppas.rules_hash``: the hash of the stored rule set a submitted PPA
decides under (``rule_sets.hash``); ``NULL`` for a draft, which follows the
active set. ``submit`` pins, a return to the initial stage unpins, and
``ppaflow rules migrate`` moves pins from one set to another.

PPAs already past draft when this runs are pinned to the active set, the
set they were decided under so far (none is pinned before any set is
stored: they follow the active set until their next submission). The stage
name ``draft`` is the shipped rules' initial stage; a PPA left unpinned
outside it still follows the active set, and activation checks it as it
checks drafts.

A column added (no table rebuilt, so SQLite keeps every trigger); no
foreign key, which SQLite cannot add to an existing table.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('ppas', sa.Column('rules_hash', sa.String(length=64), nullable=True))
    op.execute("UPDATE ppas SET rules_hash = (SELECT hash FROM rule_sets WHERE active) "
               "WHERE approval_status <> 'draft'")


def downgrade() -> None:
    op.drop_column('ppas', 'rules_hash')
