"""The FAR No. 1 header block and signatories of an organization (issue 13
item 1, docs/design.md §8 "Who signs the statements").

``organizations`` gains the header fields of the COA/DBM statements
(Department, Agency, Operating Unit; the UACS organization code was already
there) and the three signatories, each as a name and a position stored
apart: the Budget Officer and the Chief Accountant (certified correct) and
the Head of Agency (approved). All are text, empty until set
(``ppaflow org set``, ``PATCH /api/organizations/{id}``, the admin page).

Columns are added only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

#: (column, length) added to ``organizations``.
COLUMNS = (
    ('department', 200), ('agency', 200), ('operating_unit', 200),
    ('budget_officer_name', 120), ('budget_officer_position', 120),
    ('chief_accountant_name', 120), ('chief_accountant_position', 120),
    ('head_of_agency_name', 120), ('head_of_agency_position', 120),
)


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column('organizations', sa.Column(name, sa.String(length=length), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
