"""Appropriation adjustments, allotment realignments and sub-allotments
(issue 12 item 4, docs/design.md §12 "Adjustments and transfers").

- ``appropriation_adjustments``: an augmentation (one row, positive), a
  modification (a pair of rows in one program budget, between two
  allotment classes) or a transfer (a pair of rows between two program
  budgets of the same MOA and fiscal year), each row signed, with its own
  date and legal basis; the two rows of a pair share ``pair_key`` and sum
  to zero. A program budget's *adjusted amount* is its approved amount
  plus its adjustments, and the allotment limits now read it: the limit
  triggers of 0004/0011 (allotments within their program budget, a program
  budget covering its allotments, an allotment adjustment within the
  program budget) are made again on the adjusted amount, keeping their
  place in SQLite's trigger order (``rebuilds.triggers_kept(rewrite=...)``);
  on PostgreSQL their functions are replaced. An appropriation adjustment
  never takes the adjusted amount below what is allotted, nor below zero
  (``ppaflow_limit:appropriation``); on PostgreSQL it locks the program
  budget first, as the allotment limits do.
- ``allotment_adjustments`` takes two more kinds: ``realignment`` (signed,
  a pair of rows between allotments of one program budget, sharing
  ``pair_key``) and ``sub_allotment`` (negative: the giver's *transfer to*).
  The CHECK changes and ``kind`` widens to 20 characters, so SQLite
  rebuilds the table, every trigger kept.
- ``sub_allotments``: a sub-allotment from a MOA's allotment to another MOA
  or operating unit: the giver's adjustment row (``sub_allotment``, the
  *transfer to*) and the receiver's new allotment (the *transfer from*,
  which the receiver obligates against), with their date, reason and legal
  basis. Never to itself (a CHECK).

The new tables are append-only on both databases (revision 0011's
``create_append_only_triggers``: a refusal is ``ppaflow_posted``, a 409
``posted_row_immutable``), in ``db.migrate.APPEND_ONLY_TABLES``, and an
appropriation adjustment dated in a closed quarter of its MOA is refused
by revision 0015's ``period_open`` trigger.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

import importlib
import re

import sqlalchemy as sa
from alembic import op

import db.types
from db.migrations.rebuilds import triggers_kept

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

POSTED = importlib.import_module("db.migrations.versions.0011_posted_rows_never_change")
PERIODS = importlib.import_module("db.migrations.versions.0015_period_closures")

CLASSES = ("ps", "mooe", "finex", "co")
OLD_KINDS = ("(kind = 'augmentation' AND amount > 0) OR (kind IN ('reduction', 'withdrawal') AND amount < 0)")
NEW_KINDS = ("(kind = 'augmentation' AND amount > 0) OR (kind IN ('reduction', 'withdrawal', 'sub_allotment') "
             "AND amount < 0) OR (kind = 'realignment' AND amount <> 0)")

#: The triggers (SQLite) and functions (PostgreSQL) that read a program budget's limit.
LIMIT_TRIGGERS = ("allotments_within_program_budgets_insert", "allotments_within_program_budgets_update",
                  "program_budgets_covers_allotments", "allotment_adjustments_within_limits_1")
LIMIT_FUNCTIONS = ("ppaflow_limit_allotments", "ppaflow_limit_program_budgets_covers",
                   "ppaflow_limit_allotment_adjustments")

_APPROVED = re.compile(r"\b(\w+)\.approved_amount\b")


def appropriation_active(row: str) -> str:
    """SQL: the adjusted amount (centavos) of program budget ``row`` (an alias or NEW)."""
    return (f"({row}.approved_amount + COALESCE((SELECT SUM(aa.amount) FROM appropriation_adjustments aa "
            f"WHERE aa.program_budget_id = {row}.id), 0))")


def _on_adjusted(sql: str) -> str:
    return _APPROVED.sub(lambda m: appropriation_active(m.group(1)), sql)


def _on_approved(sql: str) -> str:
    return re.sub(r"\((\w+)\.approved_amount \+ COALESCE\(\(SELECT SUM\(aa\.amount\) FROM appropriation_adjustments "
                  r"aa WHERE aa\.program_budget_id = \1\.id\), 0\)\)", r"\1.approved_amount", sql)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _replace_functions(change) -> None:
    for name in LIMIT_FUNCTIONS:
        body = op.get_bind().exec_driver_sql(f"SELECT pg_get_functiondef('{name}'::regproc)").scalar()
        POSTED.ddl(change(body))


def upgrade() -> None:
    op.create_table('appropriation_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_budget_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('allotment_class', sa.String(length=5), nullable=False),
    sa.Column('amount', db.types.Money(), nullable=False),
    sa.Column('pair_key', sa.String(length=36), nullable=True),
    sa.Column('adjustment_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.String(length=255), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'augmentation' AND amount > 0 AND pair_key IS NULL) OR "
                       "(kind IN ('modification', 'transfer') AND amount <> 0 AND pair_key IS NOT NULL)",
                       name=op.f('ck_appropriation_adjustments_signed_by_kind')),
    sa.CheckConstraint("allotment_class IN ('ps', 'mooe', 'finex', 'co')",
                       name=op.f('ck_appropriation_adjustments_allotment_class')),
    sa.ForeignKeyConstraint(['program_budget_id'], ['program_budgets.id'],
                            name=op.f('fk_appropriation_adjustments_program_budget_id_program_budgets'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_appropriation_adjustments_organization_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_appropriation_adjustments_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appropriation_adjustments'))
    )
    op.create_index(op.f('ix_appropriation_adjustments_program_budget_id'), 'appropriation_adjustments',
                    ['program_budget_id'])

    if _postgresql():
        op.drop_constraint(op.f('ck_allotment_adjustments_signed_by_kind'), 'allotment_adjustments', type_='check')
        op.create_check_constraint(op.f('ck_allotment_adjustments_signed_by_kind'), 'allotment_adjustments', NEW_KINDS)
        op.add_column('allotment_adjustments', sa.Column('pair_key', sa.String(length=36), nullable=True))
        op.alter_column('allotment_adjustments', 'kind', existing_type=sa.String(length=12), type_=sa.String(length=20),
                        existing_nullable=False)
        _replace_functions(_on_adjusted)
    else:
        with triggers_kept(rewrite=lambda name, sql: _on_adjusted(sql) if name in LIMIT_TRIGGERS else sql):
            with op.batch_alter_table('allotment_adjustments', schema=None) as batch_op:
                batch_op.drop_constraint(batch_op.f('ck_allotment_adjustments_signed_by_kind'), type_='check')
                batch_op.create_check_constraint(batch_op.f('ck_allotment_adjustments_signed_by_kind'), NEW_KINDS)
                batch_op.add_column(sa.Column('pair_key', sa.String(length=36), nullable=True))
                batch_op.alter_column('kind', existing_type=sa.String(length=12), type_=sa.String(length=20),
                                      existing_nullable=False)

    op.create_table('sub_allotments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('allotment_id', sa.Integer(), nullable=False),
    sa.Column('adjustment_id', sa.Integer(), nullable=False),
    sa.Column('recipient_allotment_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('recipient_organization_id', sa.Integer(), nullable=False),
    sa.Column('amount', db.types.Money(), nullable=False),
    sa.Column('sub_allotment_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.String(length=255), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_sub_allotments_amount_positive')),
    sa.CheckConstraint('recipient_organization_id <> organization_id', name=op.f('ck_sub_allotments_not_to_itself')),
    sa.ForeignKeyConstraint(['allotment_id'], ['allotments.id'], name=op.f('fk_sub_allotments_allotment_id_allotments'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['adjustment_id'], ['allotment_adjustments.id'],
                            name=op.f('fk_sub_allotments_adjustment_id_allotment_adjustments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recipient_allotment_id'], ['allotments.id'],
                            name=op.f('fk_sub_allotments_recipient_allotment_id_allotments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_sub_allotments_organization_id_organizations')),
    sa.ForeignKeyConstraint(['recipient_organization_id'], ['organizations.id'],
                            name=op.f('fk_sub_allotments_recipient_organization_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sub_allotments_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sub_allotments')),
    sa.UniqueConstraint('recipient_allotment_id', name='uq_sub_allotments_recipient_allotment_id'),
    sa.UniqueConstraint('adjustment_id', name='uq_sub_allotments_adjustment_id'),
    )
    op.create_index(op.f('ix_sub_allotments_allotment_id'), 'sub_allotments', ['allotment_id'])
    op.create_index(op.f('ix_sub_allotments_recipient_organization_id'), 'sub_allotments',
                    ['recipient_organization_id'])

    for table in ("appropriation_adjustments", "sub_allotments"):
        POSTED.create_append_only_triggers(table)
    _appropriation_limit_trigger()
    _period_open_trigger()


def _appropriation_limit_trigger() -> None:
    """An appropriation adjustment never takes its program budget's adjusted
    amount below what is allotted from it (active allotments, adjustments
    included) nor below zero."""
    after = f"{appropriation_active('b')} + NEW.amount"
    allotted = (f"(SELECT COALESCE(SUM({POSTED.allotment_active('c')}), 0) FROM allotments c "
                "WHERE c.program_budget_id = b.id AND c.status <> 'cancelled')")
    source = "FROM program_budgets b WHERE b.id = NEW.program_budget_id"
    if _postgresql():
        POSTED.ddl(f"""
            CREATE FUNCTION ppaflow_limit_appropriation_adjustments() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE limit_value bigint; total_value bigint;
            BEGIN
              PERFORM 1 FROM program_budgets WHERE id = NEW.program_budget_id FOR UPDATE;
              SELECT {after}, {allotted} INTO limit_value, total_value {source};
              IF limit_value < total_value OR limit_value < 0 THEN
                {POSTED._raise('appropriation', 'NEW.program_budget_id', 'limit_value', 'total_value')}
              END IF;
              RETURN NEW;
            END $$""")
        POSTED.ddl("CREATE TRIGGER appropriation_adjustments_within_limits BEFORE INSERT ON appropriation_adjustments "
                   "FOR EACH ROW EXECUTE FUNCTION ppaflow_limit_appropriation_adjustments()")
        return
    POSTED.ddl(f"CREATE TRIGGER appropriation_adjustments_within_limits BEFORE INSERT ON appropriation_adjustments "
               f"WHEN EXISTS (SELECT 1 {source} AND ({after} < {allotted} OR {after} < 0)) "
               f"BEGIN SELECT RAISE(ABORT, 'ppaflow_limit:appropriation'); END")


def _period_open_trigger() -> None:
    """Revision 0015's ``period_open`` trigger on the new dated posting."""
    name = PERIODS._trigger_name("appropriation_adjustments", "adjustment_date")
    if _postgresql():
        op.execute(f"CREATE TRIGGER {name} BEFORE INSERT ON appropriation_adjustments FOR EACH ROW "
                   "EXECUTE FUNCTION ppaflow_period_open('adjustment_date')")
        return
    op.execute(
        f"CREATE TRIGGER {name} BEFORE INSERT ON appropriation_adjustments "
        "WHEN NEW.adjustment_date IS NOT NULL AND EXISTS (SELECT 1 FROM period_closures c "
        "WHERE c.organization_id = NEW.organization_id "
        "AND c.fiscal_year = CAST(strftime('%Y', NEW.adjustment_date) AS INTEGER) "
        f"AND c.quarter = (CAST(strftime('%m', NEW.adjustment_date) AS INTEGER) + 2) / 3 AND {PERIODS.CLOSED}) "
        "BEGIN SELECT RAISE(ABORT, 'period_closed: appropriation_adjustments adjustment_date is in a closed period "
        "of its MOA; post the correction in the open period'); END")


def downgrade() -> None:
    """Drops the new tables and puts the limits back on the approved amount
    and ``kind`` back to 12 characters. Refused (``RuntimeError``, nothing
    changed) while an appropriation adjustment, a sub-allotment or an
    allotment adjustment of kind realignment or sub_allotment exists:
    posted rows are append-only and never deleted (docs/design.md §12)."""
    _refuse_while_posted()
    postgresql = _postgresql()
    for table in ("appropriation_adjustments", "sub_allotments"):
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS ppaflow_posted_{table}() CASCADE")
    if postgresql:
        op.execute("DROP TRIGGER IF EXISTS appropriation_adjustments_within_limits ON appropriation_adjustments")
        op.execute("DROP FUNCTION IF EXISTS ppaflow_limit_appropriation_adjustments()")
    op.drop_table('sub_allotments')
    op.drop_table('appropriation_adjustments')
    if postgresql:
        _replace_functions(_on_approved)
        op.drop_column('allotment_adjustments', 'pair_key')
        op.drop_constraint(op.f('ck_allotment_adjustments_signed_by_kind'), 'allotment_adjustments', type_='check')
        op.create_check_constraint(op.f('ck_allotment_adjustments_signed_by_kind'), 'allotment_adjustments', OLD_KINDS)
        op.alter_column('allotment_adjustments', 'kind', existing_type=sa.String(length=20), type_=sa.String(length=12),
                        existing_nullable=False)
        return
    with triggers_kept(rewrite=lambda name, sql: _on_approved(sql) if name in LIMIT_TRIGGERS else sql):
        with op.batch_alter_table('allotment_adjustments', schema=None) as batch_op:
            batch_op.drop_column('pair_key')
            batch_op.drop_constraint(batch_op.f('ck_allotment_adjustments_signed_by_kind'), type_='check')
            batch_op.create_check_constraint(batch_op.f('ck_allotment_adjustments_signed_by_kind'), OLD_KINDS)
            batch_op.alter_column('kind', existing_type=sa.String(length=20), type_=sa.String(length=12),
                                  existing_nullable=False)


def _refuse_while_posted() -> None:
    """Raise ``RuntimeError`` when a row the downgrade would drop or could
    not keep exists: posted rows are never deleted by a migration."""
    connection = op.get_bind()
    found = {
        "appropriation adjustments": "SELECT COUNT(*) FROM appropriation_adjustments",
        "sub-allotments": "SELECT COUNT(*) FROM sub_allotments",
        "realignments and sub-allotments among the allotment adjustments":
            "SELECT COUNT(*) FROM allotment_adjustments WHERE kind IN ('realignment', 'sub_allotment')",
    }
    held = [f"{count} {what}" for what, sql in found.items() if (count := connection.execute(sa.text(sql)).scalar())]
    if held:
        raise RuntimeError(f"migration 0018 cannot be undone: the database holds {', '.join(held)}, posted rows "
                           "that are never deleted (docs/design.md §12); nothing was changed")
