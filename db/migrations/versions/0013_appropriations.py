"""Appropriations (issue 12 item 1, docs/design.md §12 "Appropriations").

``budget_proposals.status`` follows ``workflows/budget_proposal.yaml``:
draft, submitted, reviewed, enacted; the old ``approved`` becomes
``enacted``. Its steps go into ``workflow_transitions``.

``program_budgets`` become the PPA's appropriation: amounts per allotment
class (``ps``, ``mooe``, ``finex``, ``co``; ``approved_amount`` is their sum,
checked), the fund cluster (COA-DBM JC 2013-1), the PAP/UACS code, the
enacting act's number and date, and a ``supplemental`` flag. A PPA has at
most one regular program budget per proposal (a partial unique index),
and any number of supplemental ones. Existing rows put their whole amount in
their PPA's class.

``budget_line_items`` carry their allotment class (backfilled from the
UACS object code's prefix: 501 PS, 503 FinEx, 506 and 107 CO, else MOOE).

``ppas.appropriation_class`` may be ``finex``.

On SQLite the rebuilt tables lose their triggers: the budget limit triggers
(revision 0004's limits as 0011 rewrote them, 0011's adjustment
limits) are set aside and put back as they were (``db.migrations.rebuilds``).

Revision ID: 0013
Revises: 0010
Create Date: 2026-11-30
"""


import sqlalchemy as sa
from alembic import op

import db.types
from db.migrations.rebuilds import triggers_kept

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

CLASSES = ("ps", "mooe", "finex", "co")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _restatus(old: str, new: str, allowed, also=()) -> None:
    """Rename proposal status ``old`` (and ``also``) to ``new`` and allow
    only ``allowed``: the constraint is dropped first, so the rows may pass
    through a status neither version allows."""
    with op.batch_alter_table('budget_proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_budget_proposals_status'), type_='check')
    op.execute(f"UPDATE budget_proposals SET status = '{new}' WHERE {_in('status', (old, *also))}")
    with op.batch_alter_table('budget_proposals', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_budget_proposals_status'), _in('status', allowed))


def upgrade() -> None:
    with triggers_kept():
        _upgrade()


def _upgrade() -> None:
    _restatus('approved', 'enacted', ('draft', 'submitted', 'reviewed', 'enacted'))

    with op.batch_alter_table('ppas', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_ppas_appropriation_class'), type_='check')
        batch_op.alter_column('appropriation_class', existing_type=sa.String(length=4), type_=sa.String(length=5),
                              existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_ppas_appropriation_class'),
                                         _in('appropriation_class', CLASSES))

    with op.batch_alter_table('program_budgets', schema=None) as batch_op:
        for name in CLASSES:
            batch_op.add_column(sa.Column(name, db.types.Money(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('fund_cluster', sa.String(length=2), nullable=False, server_default='01'))
        batch_op.add_column(sa.Column('pap_code', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('enactment_act', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('enactment_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('supplemental', sa.Boolean(), nullable=False, server_default=sa.false()))
    for name in CLASSES:
        op.execute(f"UPDATE program_budgets SET {name} = approved_amount WHERE ppa_id IN "
                   f"(SELECT id FROM ppas WHERE appropriation_class = '{name}')")
    with op.batch_alter_table('program_budgets', schema=None) as batch_op:
        for name in (*CLASSES, 'fund_cluster', 'pap_code', 'enactment_act', 'supplemental'):
            batch_op.alter_column(name, server_default=None)
        batch_op.drop_constraint('uq_program_budgets_proposal_ppa', type_='unique')
        batch_op.create_check_constraint(batch_op.f('ck_program_budgets_class_amounts_not_negative'),
                                         ' AND '.join(f'{c} >= 0' for c in CLASSES))
        batch_op.create_check_constraint(batch_op.f('ck_program_budgets_approved_is_sum_of_classes'),
                                         'approved_amount = ' + ' + '.join(CLASSES))
    op.create_index('uq_program_budgets_proposal_ppa_regular', 'program_budgets', ['proposal_id', 'ppa_id'],
                    unique=True, postgresql_where=sa.text('NOT supplemental'), sqlite_where=sa.text('NOT supplemental'))

    with op.batch_alter_table('budget_line_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allotment_class', sa.String(length=5), nullable=False,
                                      server_default='mooe'))
    op.execute("UPDATE budget_line_items SET allotment_class = CASE "
               "WHEN uacs_code LIKE '501%' THEN 'ps' WHEN uacs_code LIKE '503%' THEN 'finex' "
               "WHEN uacs_code LIKE '506%' OR uacs_code LIKE '107%' THEN 'co' ELSE 'mooe' END")
    with op.batch_alter_table('budget_line_items', schema=None) as batch_op:
        batch_op.alter_column('allotment_class', server_default=None)
        batch_op.create_check_constraint(batch_op.f('ck_budget_line_items_allotment_class'),
                                         _in('allotment_class', CLASSES))


def downgrade() -> None:
    with triggers_kept():
        _downgrade()


def _downgrade() -> None:
    with op.batch_alter_table('budget_line_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_budget_line_items_allotment_class'), type_='check')
        batch_op.drop_column('allotment_class')
    op.drop_index('uq_program_budgets_proposal_ppa_regular', table_name='program_budgets')
    op.execute("DELETE FROM program_budgets WHERE supplemental AND id NOT IN (SELECT program_budget_id FROM allotments)")
    with op.batch_alter_table('program_budgets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_program_budgets_approved_is_sum_of_classes'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_program_budgets_class_amounts_not_negative'), type_='check')
        for name in (*CLASSES, 'fund_cluster', 'pap_code', 'enactment_act', 'enactment_date', 'supplemental'):
            batch_op.drop_column(name)
        batch_op.create_unique_constraint('uq_program_budgets_proposal_ppa', ['proposal_id', 'ppa_id'])
    op.execute("UPDATE ppas SET appropriation_class = 'mooe' WHERE appropriation_class = 'finex'")
    with op.batch_alter_table('ppas', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_ppas_appropriation_class'), type_='check')
        batch_op.alter_column('appropriation_class', existing_type=sa.String(length=5), type_=sa.String(length=4),
                              existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_ppas_appropriation_class'),
                                         _in('appropriation_class', ('ps', 'mooe', 'co')))
    _restatus('enacted', 'approved', ('draft', 'submitted', 'approved'), also=('reviewed',))
