"""The rule-set hash on the audit trail and on alerts (issue 14 item 1,
docs/design.md §13 "Reload").

``audit_log.rules_hash``: the rule set in force for the request or job that
made the change, when it consulted the rules (a work item's status
transition, a budget distribution, tracking enabled from a template);
``alerts.rules_hash``: the rule set whose variance bands and severities
opened the alert. Both nullable: rows written before this revision, and
changes that consulted no rule, have none.

Columns added only: no table is rebuilt, so SQLite keeps every trigger
(``audit_log`` is append-only by trigger).

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("rules_hash", sa.String(64), nullable=True))
    op.add_column("alerts", sa.Column("rules_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in both dialects (SQLite 3.35+): no rebuild, the triggers stay
    op.execute("ALTER TABLE alerts DROP COLUMN rules_hash")
    op.execute("ALTER TABLE audit_log DROP COLUMN rules_hash")
