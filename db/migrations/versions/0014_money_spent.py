"""One source of truth for money spent (issue 12 item 7, docs/design.md §12
"Money spent and payables").

``obligations.work_item_id``: the work item of the PPA's WBS an obligation
(ORS) is charged to; NULL charges the PPA as a whole (its project).

``work_items.expenditure_opening_balance``: for a PPA in the money chain,
the expenditure the item had reported before the PPA entered the chain
(PHP, centavos); its actual expenditure is then this opening balance plus
the active disbursements charged to it. NULL while the PPA is outside the
chain (the figure is reported) or until the balance is captured.

``obligation_deliveries`` (issue 12 item 6): the deliveries accepted
against an obligation, so that its unpaid amount splits into due and
demandable (accepted, not yet paid) and not yet due and demandable
(obligated, not yet accepted). Append-only (triggers refuse UPDATE and
DELETE).

The columns are added in place (``ALTER TABLE ... ADD COLUMN``), so SQLite
keeps both tables and their budget-limit triggers. Existing PPAs in the
chain are brought in step: each item's reported figure becomes its opening
balance, and the project (the root work item) takes the PPA's active
disbursements, as none were charged to a work item before.

Revision ID: 0014
Revises: 0010
Create Date: 2026-11-30
"""

import importlib

import sqlalchemy as sa
from alembic import op

import db.types
from db.migrations.rebuilds import triggers_kept

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

#: PPAs in the chain (a program budget with an active allotment; services/expenditure.py
#: ``in_chain``) that have a WBS, with their active disbursements in centavos.
CHAIN_PPAS = """
SELECT p.execution_project_id,
       (SELECT COALESCE(SUM(d.amount), 0) FROM disbursements d
          JOIN obligations o ON d.obligation_id = o.id
          JOIN allotments a ON o.allotment_id = a.id
          JOIN program_budgets b ON a.program_budget_id = b.id
         WHERE b.ppa_id = p.id AND d.status <> 'voided')
  FROM ppas p
 WHERE p.execution_project_id IS NOT NULL
   AND EXISTS (SELECT 1 FROM allotments a JOIN program_budgets b ON a.program_budget_id = b.id
                WHERE b.ppa_id = p.id AND a.status <> 'cancelled')
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # ADD COLUMN ... REFERENCES: SQLite's one way to add a key
        op.execute("ALTER TABLE obligations ADD COLUMN work_item_id INTEGER REFERENCES work_items (id)")
    else:
        op.add_column('obligations', sa.Column('work_item_id', sa.Integer(), sa.ForeignKey(
            'work_items.id', name=op.f('fk_obligations_work_item_id_work_items')), nullable=True))
    op.create_index(op.f('ix_obligations_work_item_id'), 'obligations', ['work_item_id'], unique=False)
    op.add_column('work_items', sa.Column('expenditure_opening_balance', db.types.Money(), nullable=True))

    op.create_table('obligation_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('amount', db.types.Money(), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_obligation_deliveries_amount_positive')),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligations.id'],
                            name=op.f('fk_obligation_deliveries_obligation_id_obligations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_obligation_deliveries_organization_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_obligation_deliveries_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligation_deliveries'))
    )
    op.create_index(op.f('ix_obligation_deliveries_obligation_id'), 'obligation_deliveries', ['obligation_id'],
                    unique=False)
    _revision("0001_initial_schema").append_only("obligation_deliveries")

    connection = op.get_bind()
    for root_id, disbursed in connection.execute(sa.text(CHAIN_PPAS)).all():
        connection.execute(sa.text("UPDATE work_items SET expenditure_opening_balance = actual_expenditure "
                                   "WHERE id = :root OR root_id = :root"), {"root": root_id})
        connection.execute(sa.text("UPDATE work_items SET actual_expenditure = actual_expenditure + :disbursed "
                                   "WHERE id = :root"), {"root": root_id, "disbursed": int(disbursed)})


def _revision(name: str):
    """An earlier revision's module (its trigger definitions are reused as they are)."""
    return importlib.import_module(f"db.migrations.versions.{name}")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index(op.f('ix_obligation_deliveries_obligation_id'), table_name='obligation_deliveries')
    op.drop_table('obligation_deliveries')
    op.drop_index(op.f('ix_obligations_work_item_id'), table_name='obligations')
    op.drop_column('work_items', 'expenditure_opening_balance')
    if not sqlite:
        op.drop_constraint(op.f('fk_obligations_work_item_id_work_items'), 'obligations', type_='foreignkey')
        op.drop_column('obligations', 'work_item_id')
        return
    # SQLite drops a column with a foreign key only by rebuilding the table.
    with triggers_kept(), op.batch_alter_table('obligations', schema=None, recreate="always") as batch_op:
        batch_op.drop_column('work_item_id')
