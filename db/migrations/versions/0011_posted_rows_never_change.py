"""Posted rows never change; corrections are new rows (issue 12 item 4,
docs/design.md §12 "Posted rows never change").

Allotments, obligations and disbursements, once posted, are fixed by
triggers on PostgreSQL and SQLite:

- an UPDATE of their amount, date, payee, number, parent or
  ``organization_id`` is refused (``FIXED``);
- a DELETE is refused;
- only the declared status moves are allowed (``MOVES``): the statuses
  that follow the money move among themselves, any of them may go to
  cancelled (voided for a DV), and cancelled and voided are final, with
  their date and reason;
- a cancellation (void) carries its business date, ``cancelled_on``
  (``voided_on``), never before the document's own date: the reversal
  posts in that date's quarter.

A refusal raises ``ppaflow_posted:<table>:<column>`` (SQLSTATE 23514, or
23001 for a DELETE, on PostgreSQL; a constraint error on SQLite);
``services.unit_of_work`` turns it into a 409 ``posted_row_immutable``.

Corrections are rows of their own, themselves fixed once written:
``allotment_adjustments`` (reduction, withdrawal, augmentation; signed
amounts, negative for the first two) and ``obligation_adjustments`` (NORSA,
signed). The active amount of an allotment or obligation is its original
amount plus its adjustments, and the budget limit triggers of revision 0004
are made again on those active amounts: program budget >= allotments >=
obligations >= disbursements still holds, adjustments included. On
PostgreSQL the triggers lock in the declared order: program budget, then
allotment, then obligation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import importlib

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

#: Columns of a posted row that never change.
FIXED = {
    "allotments": ("amount", "release_date", "quarter", "saro_number", "program_budget_id", "organization_id"),
    "obligations": ("amount", "obligation_date", "payee", "ors_number", "allotment_id", "organization_id"),
    "disbursements": ("amount", "disbursement_date", "dv_number", "obligation_id", "organization_id"),
}

#: table -> (the statuses that follow the money, the final status, its date, its reason, its timestamp,
#:           the document's own date). Moves allowed: among the first, and from any of them to the final one.
MOVES = {
    "allotments": (("released", "partially_utilized", "fully_utilized"), "cancelled", "cancelled_on",
                   "cancel_reason", "cancelled_at", "release_date"),
    "obligations": (("obligated", "partially_disbursed", "fully_disbursed"), "cancelled", "cancelled_on",
                    "cancel_reason", "cancelled_at", "obligation_date"),
    "disbursements": (("disbursed",), "voided", "voided_on", "void_reason", "voided_at", "disbursement_date"),
}

#: Adjustment tables: (table, parent foreign key, parent table, extra columns).
ADJUSTMENTS = ("allotment_adjustments", "obligation_adjustments")


def ddl(statement: str) -> None:
    """Run DDL as written (no bind-parameter parsing: the error texts contain colons)."""
    op.get_bind().exec_driver_sql(statement)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


# -- active amounts: the original plus its adjustments ---------------------------------------------

def allotment_active(row: str) -> str:
    """SQL: the active amount (centavos) of allotment ``row`` (an alias or NEW)."""
    return (f"({row}.amount + COALESCE((SELECT SUM(j.amount) FROM allotment_adjustments j "
            f"WHERE j.allotment_id = {row}.id), 0))")


def obligation_active(row: str) -> str:
    """SQL: the active amount (centavos) of obligation ``row`` (an alias or NEW)."""
    return (f"({row}.amount + COALESCE((SELECT SUM(j.amount) FROM obligation_adjustments j "
            f"WHERE j.obligation_id = {row}.id), 0))")


def _plain(row: str) -> str:
    return f"{row}.amount"


#: (child, foreign key, child's inactive status, child's active amount, parent, parent's limit of row P,
#:  parent's columns whose update re-checks, level)
LIMITS = (
    ("allotments", "program_budget_id", "cancelled", allotment_active, "program_budgets",
     lambda p: f"{p}.approved_amount", "approved_amount", "allotment"),
    ("obligations", "allotment_id", "cancelled", obligation_active, "allotments",
     lambda p: f"(CASE WHEN {p}.status = 'cancelled' THEN 0 ELSE {allotment_active(p)} END)", "amount, status",
     "obligation"),
    ("disbursements", "obligation_id", "voided", _plain, "obligations",
     lambda p: f"(CASE WHEN {p}.status = 'cancelled' THEN 0 ELSE {obligation_active(p)} END)", "amount, status",
     "disbursement"),
)


def upgrade() -> None:
    for table, (_, _, on, _, at, _) in MOVES.items():
        op.add_column(table, sa.Column(on, sa.Date(), nullable=True))
        # the business date of the cancellations made before this revision: their day in Manila
        day = (f"CAST({at} AT TIME ZONE 'Asia/Manila' AS date)" if _postgresql()
               else f"date({at}, '+8 hours')")
        op.execute(f"UPDATE {table} SET {on} = {day} WHERE {at} IS NOT NULL")
    _adjustment_tables()
    if not _postgresql():  # PostgreSQL: CREATE OR REPLACE FUNCTION replaces 0004's bodies below
        _drop_sqlite_limit_triggers()
    for limit in LIMITS:
        create_limit_triggers(*limit)
    create_adjustment_limit_triggers()
    for table in FIXED:
        create_fixed_triggers(table)
    for table in ADJUSTMENTS:
        create_append_only_triggers(table)


def _adjustment_tables() -> None:
    op.create_table('allotment_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('allotment_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount', db.types.Money(), nullable=False),
    sa.Column('adjustment_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.String(length=255), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'augmentation' AND amount > 0) OR (kind IN ('reduction', 'withdrawal') AND amount < 0)",
                       name=op.f('ck_allotment_adjustments_signed_by_kind')),
    sa.ForeignKeyConstraint(['allotment_id'], ['allotments.id'],
                            name=op.f('fk_allotment_adjustments_allotment_id_allotments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_allotment_adjustments_organization_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_allotment_adjustments_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allotment_adjustments'))
    )
    op.create_index(op.f('ix_allotment_adjustments_allotment_id'), 'allotment_adjustments', ['allotment_id'])
    op.create_table('obligation_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('amount', db.types.Money(), nullable=False),
    sa.Column('adjustment_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.String(length=255), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("amount <> 0", name=op.f('ck_obligation_adjustments_amount_not_zero')),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligations.id'],
                            name=op.f('fk_obligation_adjustments_obligation_id_obligations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_obligation_adjustments_organization_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_obligation_adjustments_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligation_adjustments'))
    )
    op.create_index(op.f('ix_obligation_adjustments_obligation_id'), 'obligation_adjustments', ['obligation_id'])


# -- fixed rows -------------------------------------------------------------------------------------

def create_fixed_triggers(table: str) -> None:
    """Refuse DELETE of ``table``'s rows, UPDATE of its ``FIXED`` columns,
    and any status move ``MOVES`` does not declare. Named to sort before
    the limit triggers, so that PostgreSQL (alphabetical order) reports the
    fixed column rather than a limit."""
    money, final, on, reason, at, own_date = MOVES[table]
    moves = (f"NEW.status <> OLD.status AND NOT (OLD.status IN ({_quoted(money)}) "
             f"AND NEW.status IN ({_quoted(money + (final,))}))")
    rewritten = f"OLD.status = '{final}' AND ({' OR '.join(f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in (on, reason, at))})"
    undated = f"NEW.status = '{final}' AND OLD.status <> '{final}' AND (NEW.{on} IS NULL OR NEW.{on} < NEW.{own_date})"
    checks = [(f"NEW.{column} IS DISTINCT FROM OLD.{column}", column) for column in FIXED[table]]
    checks += [(moves, "status"), (rewritten, on), (undated, on)]
    if _postgresql():
        body = "\n".join(
            f"  IF {condition} THEN RAISE EXCEPTION 'ppaflow_posted:{table}:{column}' USING ERRCODE = '23514', "
            f"DETAIL = json_build_object('id', OLD.id, 'from', OLD.status, 'to', NEW.status)::text; END IF;"
            for condition, column in checks)
        ddl(f"""
            CREATE FUNCTION ppaflow_posted_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'ppaflow_posted:{table}:delete' USING ERRCODE = '23001';
              END IF;
            {body}
              RETURN NEW;
            END $$""")
        ddl(f"CREATE TRIGGER {table}_are_fixed_once_posted BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ppaflow_posted_{table}()")
        return
    ddl(f"CREATE TRIGGER {table}_are_fixed_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'ppaflow_posted:{table}:delete'); END")
    for index, (condition, column) in enumerate(checks):
        ddl(f"CREATE TRIGGER {table}_are_fixed_{index} BEFORE UPDATE ON {table} "
            f"WHEN {condition.replace('IS DISTINCT FROM', 'IS NOT')} "
            f"BEGIN SELECT RAISE(ABORT, 'ppaflow_posted:{table}:{column}'); END")


def create_append_only_triggers(table: str) -> None:
    """An adjustment row, once written, never changes and is never deleted
    (the triggers are named as revision 0001's append-only ones; the table
    is in ``db.migrate.APPEND_ONLY_TABLES``, so the application's role may
    only read and insert it)."""
    if _postgresql():
        ddl(f"""
            CREATE FUNCTION ppaflow_posted_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION USING MESSAGE = 'ppaflow_posted:{table}:' || lower(TG_OP),
                ERRCODE = CASE WHEN TG_OP = 'DELETE' THEN '23001' ELSE '23514' END;
            END $$""")
        ddl(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ppaflow_posted_{table}()")
        return
    for statement in ("update", "delete"):
        ddl(f"CREATE TRIGGER {table}_no_{statement} BEFORE {statement.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'ppaflow_posted:{table}:{statement}'); END")


# -- the limits, on active amounts ------------------------------------------------------------------

def _raise(level: str, parent: str, limit: str, total: str) -> str:
    return (f"RAISE EXCEPTION 'ppaflow_limit:{level}' USING ERRCODE = '23514', "
            f"DETAIL = json_build_object('parent_id', {parent}, 'limit', {limit}, 'total', {total})::text;")


def create_limit_triggers(child, fk, child_off, child_active, parent, parent_limit, parent_columns, level) -> None:
    """Revision 0004's limit triggers, on active amounts (adjustments included).

    On PostgreSQL the functions of 0004 are replaced (the triggers calling
    them stay as they are); on SQLite the triggers are made again."""
    others = (f"SELECT COALESCE(SUM({child_active('c')}), 0) FROM {child} c "
              f"WHERE c.{fk} = NEW.{fk} AND c.status <> '{child_off}'")
    if _postgresql():
        ddl(f"""
            CREATE OR REPLACE FUNCTION ppaflow_limit_{child}() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE parent_limit bigint; total bigint;
            BEGIN
              IF NEW.status = '{child_off}' THEN RETURN NEW; END IF;
              -- a move between active statuses changes no sum: no check, and no lock on the parent taken
              -- after the child's (that would invert the lock order: allotment, then obligation)
              IF TG_OP = 'UPDATE' AND OLD.status <> '{child_off}' AND NEW.amount = OLD.amount
                 AND NEW.{fk} = OLD.{fk} THEN RETURN NEW; END IF;
              PERFORM 1 FROM {parent} WHERE id = NEW.{fk} FOR UPDATE;
              SELECT {parent_limit('p')} INTO parent_limit FROM {parent} p WHERE p.id = NEW.{fk};
              SELECT COALESCE(SUM({child_active('c')}), 0) INTO total FROM {child} c
                WHERE c.{fk} = NEW.{fk} AND c.status <> '{child_off}' AND c.id <> NEW.id;
              total := total + {child_active('NEW')};
              IF total > COALESCE(parent_limit, 0) THEN
                {_raise(level, f'NEW.{fk}', 'parent_limit', 'total')}
              END IF;
              RETURN NEW;
            END $$""")
        ddl(f"""
            CREATE OR REPLACE FUNCTION ppaflow_limit_{parent}_covers() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE total bigint;
            BEGIN
              SELECT COALESCE(SUM({child_active('c')}), 0) INTO total FROM {child} c
                WHERE c.{fk} = NEW.id AND c.status <> '{child_off}';
              IF total > {parent_limit('NEW')} THEN
                {_raise(level, 'NEW.id', parent_limit('NEW'), 'total')}
              END IF;
              RETURN NEW;
            END $$""")
        return
    limit = f"COALESCE((SELECT {parent_limit('p')} FROM {parent} p WHERE p.id = NEW.{fk}), 0)"
    abort = f"BEGIN SELECT RAISE(ABORT, 'ppaflow_limit:{level}'); END"
    ddl(f"CREATE TRIGGER {child}_within_{parent}_insert BEFORE INSERT ON {child} "
        f"WHEN NEW.status <> '{child_off}' AND ({others}) + {child_active('NEW')} > {limit} {abort}")
    ddl(f"CREATE TRIGGER {child}_within_{parent}_update BEFORE UPDATE OF amount, status, {fk} ON {child} "
        f"WHEN NEW.status <> '{child_off}' AND ({others} AND c.id <> NEW.id) + {child_active('NEW')} > {limit} "
        f"{abort}")
    ddl(f"CREATE TRIGGER {parent}_covers_{child} BEFORE UPDATE OF {parent_columns} ON {parent} "
        f"WHEN (SELECT COALESCE(SUM({child_active('c')}), 0) FROM {child} c WHERE c.{fk} = NEW.id "
        f"AND c.status <> '{child_off}') > {parent_limit('NEW')} {abort}")


def create_adjustment_limit_triggers() -> None:
    """An adjustment keeps every limit: an allotment's never below what is
    obligated against it nor, with the other allotments, above the program
    budget; a NORSA never takes an obligation below what is paid against it
    nor, with the other obligations, above the allotment."""
    allotment_after = f"{allotment_active('a')} + NEW.amount"
    obligation_after = f"{obligation_active('o')} + NEW.amount"
    obligated = ("(SELECT COALESCE(SUM(" + obligation_active('c') + "), 0) FROM obligations c "
                 "WHERE c.allotment_id = a.id AND c.status <> 'cancelled')")
    allotted = ("(SELECT COALESCE(SUM(" + allotment_active('c') + "), 0) FROM allotments c "
                "WHERE c.program_budget_id = a.program_budget_id AND c.status <> 'cancelled')")
    disbursed = ("(SELECT COALESCE(SUM(c.amount), 0) FROM disbursements c "
                 "WHERE c.obligation_id = o.id AND c.status <> 'voided')")
    obligated_beside = ("(SELECT COALESCE(SUM(" + obligation_active('c') + "), 0) FROM obligations c "
                        "WHERE c.allotment_id = o.allotment_id AND c.status <> 'cancelled')")
    allotment_limit = f"(CASE WHEN a.status = 'cancelled' THEN 0 ELSE {allotment_active('a')} END)"
    #: (table, row alias and its FROM, [(condition, level, limit, total)])
    checks = {
        "allotment_adjustments": (
            "FROM allotments a JOIN program_budgets b ON b.id = a.program_budget_id WHERE a.id = NEW.allotment_id", [
                (f"{allotment_after} < {obligated} OR {allotment_after} < 0", "obligation", allotment_after,
                 obligated),
                (f"a.status <> 'cancelled' AND {allotted} + NEW.amount > b.approved_amount", "allotment",
                 "b.approved_amount", f"{allotted} + NEW.amount"),
            ]),
        "obligation_adjustments": (
            "FROM obligations o JOIN allotments a ON a.id = o.allotment_id WHERE o.id = NEW.obligation_id", [
                (f"{obligation_after} < {disbursed} OR {obligation_after} < 0", "disbursement", obligation_after,
                 disbursed),
                (f"o.status <> 'cancelled' AND {obligated_beside} + NEW.amount > {allotment_limit}", "obligation",
                 allotment_limit, f"{obligated_beside} + NEW.amount"),
            ]),
    }
    for table, (source, conditions) in checks.items():
        parent = "NEW.allotment_id" if table == "allotment_adjustments" else "NEW.obligation_id"
        if _postgresql():
            locks = ("PERFORM 1 FROM program_budgets WHERE id = (SELECT program_budget_id FROM allotments "
                     "WHERE id = NEW.allotment_id) FOR UPDATE;\n"
                     "PERFORM 1 FROM allotments WHERE id = NEW.allotment_id FOR UPDATE;"
                     if table == "allotment_adjustments" else
                     "PERFORM 1 FROM allotments WHERE id = (SELECT allotment_id FROM obligations "
                     "WHERE id = NEW.obligation_id) FOR UPDATE;\n"
                     "PERFORM 1 FROM obligations WHERE id = NEW.obligation_id FOR UPDATE;")
            body = "\n".join(
                f"SELECT {limit}, {total} INTO limit_value, total_value {source}; "
                f"IF EXISTS (SELECT 1 {source} AND ({condition})) THEN "
                f"{_raise(level, parent, 'limit_value', 'total_value')} END IF;"
                for condition, level, limit, total in conditions)
            ddl(f"""
                CREATE FUNCTION ppaflow_limit_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE limit_value bigint; total_value bigint;
                BEGIN
                {locks}
                {body}
                RETURN NEW;
                END $$""")
            ddl(f"CREATE TRIGGER {table}_within_limits BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ppaflow_limit_{table}()")
            continue
        for index, (condition, level, _, _) in enumerate(conditions):
            ddl(f"CREATE TRIGGER {table}_within_limits_{index} BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 {source} AND ({condition})) "
                f"BEGIN SELECT RAISE(ABORT, 'ppaflow_limit:{level}'); END")


def _drop_sqlite_limit_triggers() -> None:
    for child, _fk, _off, _active, parent, *_ in LIMITS:
        for name in (f"{child}_within_{parent}_insert", f"{child}_within_{parent}_update", f"{parent}_covers_{child}"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def downgrade() -> None:
    postgresql = _postgresql()
    for table in (*FIXED, *ADJUSTMENTS):
        if postgresql:
            ddl(f"DROP TRIGGER IF EXISTS {table}_are_fixed_once_posted ON {table}")
            ddl(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            ddl(f"DROP FUNCTION IF EXISTS ppaflow_posted_{table}()")
        else:
            names = [f"{table}_are_fixed_{n}" for n in ["no_delete", *range(len(FIXED.get(table, ())) + 3)]]
            for name in names + [f"{table}_no_update", f"{table}_no_delete"]:
                ddl(f"DROP TRIGGER IF EXISTS {name}")
    if postgresql:
        for table in ADJUSTMENTS:
            ddl(f"DROP TRIGGER IF EXISTS {table}_within_limits ON {table}")
            ddl(f"DROP FUNCTION IF EXISTS ppaflow_limit_{table}()")
    else:
        _drop_sqlite_limit_triggers()
    op.drop_table('obligation_adjustments')
    op.drop_table('allotment_adjustments')
    budget_execution = importlib.import_module("db.migrations.versions.0004_budget_execution")
    for limit in budget_execution.LIMITS:
        if postgresql:
            child, parent = limit[0], limit[3]
            ddl(f"DROP TRIGGER IF EXISTS {child}_within_{parent} ON {child}")
            ddl(f"DROP TRIGGER IF EXISTS {parent}_covers_{child} ON {parent}")
            ddl(f"DROP FUNCTION IF EXISTS ppaflow_limit_{child}()")
            ddl(f"DROP FUNCTION IF EXISTS ppaflow_limit_{parent}_covers()")
        budget_execution.create_limit_triggers(*limit)
    for table, (_, _, on, *_) in MOVES.items():
        op.drop_column(table, on)
