"""ORS and DV as documents (issue 12 item 3, docs/design.md §12 "ORS and DV
as documents").

An obligation (ORS) and a disbursement (DV) are now created as drafts and
move through the boxes of their forms (rules/default/workflows/ors.yaml,
dv.yaml); they are *posted* at Box B of the ORS (``obligated``) and Box E
of the DV (``disbursed``, paid). So:

- the status check constraints allow the draft stages (ORS: ``draft``,
  ``charges_certified``; DV: ``draft``, ``necessary_certified``,
  ``entry_recorded``, ``cash_certified``, ``approved``) and ``withdrawn``
  (a draft cancelled before posting); ``disbursements.status`` widens to 20
  characters; a DV gets its Box E fields, ``check_ada_number`` and
  ``jev_number``;
- the budget limit triggers (revision 0004, remade by 0011) count an ORS
  or DV only in its posted statuses: a draft counts in no total, and a DV
  is paid only from a posted ORS (a draft ORS is a limit of zero);
- the posted-row triggers of 0011 apply from the posting on: a draft's
  columns may change; a posted row's never do; the status moves allowed
  are among the draft stages, from a draft stage to ``withdrawn``, from the
  last box (``charges_certified``, ``approved``) into the posted statuses,
  then as 0011 declares (among the posted statuses, to cancelled/voided).
  A posted ORS or DV never goes back to draft;
- the period-open triggers of 0015 also refuse an UPDATE that moves an ORS
  or DV date into a closed period (the DV's date becomes the check/ADA
  issue date at Box E).

Rows posted before this revision stay posted. On SQLite the two tables are
rebuilt with every trigger set aside and put back in its creation order,
the remade ones in the place of those they replace (as
``db.migrations.rebuilds.triggers_kept`` does).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

#: table -> (draft stages, the last box before posting, posted statuses, final status and its date, reason,
#:           timestamp, the document's own date). As ``db.models.budget`` has them at this revision.
DOCUMENTS = {
    "obligations": (("draft", "charges_certified"), "charges_certified",
                    ("obligated", "partially_disbursed", "fully_disbursed"), "cancelled", "cancelled_on",
                    "cancel_reason", "cancelled_at", "obligation_date"),
    "disbursements": (("draft", "necessary_certified", "entry_recorded", "cash_certified", "approved"), "approved",
                      ("disbursed",), "voided", "voided_on", "void_reason", "voided_at", "disbursement_date"),
}
WITHDRAWN = "withdrawn"

#: Columns of a posted row that never change (0011's, and the DV's Box E fields).
FIXED = {
    "obligations": ("amount", "obligation_date", "payee", "ors_number", "allotment_id", "organization_id"),
    "disbursements": ("amount", "disbursement_date", "dv_number", "obligation_id", "organization_id"),
}
BOX_E = ("check_ada_number", "jev_number")


def ddl(statement: str) -> None:
    """Run DDL as written (no bind-parameter parsing: the error texts contain colons)."""
    op.get_bind().exec_driver_sql(statement)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _statuses(table: str, legacy: bool) -> tuple[str, ...]:
    draft, _, posted, final, *_ = DOCUMENTS[table]
    return posted + (final,) if legacy else draft + posted + (final, WITHDRAWN)


# -- what counts ------------------------------------------------------------------------------------

def counting(table: str, row: str, legacy: bool) -> str:
    """SQL: row ``row`` of ``table`` counts against its parent (0011: it is
    not cancelled; now: it is posted and not cancelled)."""
    if table == "allotments":
        return f"{row}.status <> 'cancelled'"
    if legacy:
        return f"{row}.status <> '{DOCUMENTS[table][3]}'"
    return f"{row}.status IN ({_quoted(DOCUMENTS[table][2])})"


def allotment_active(row: str) -> str:
    """SQL: the active amount (centavos) of allotment ``row``."""
    return (f"({row}.amount + COALESCE((SELECT SUM(j.amount) FROM allotment_adjustments j "
            f"WHERE j.allotment_id = {row}.id), 0))")


def obligation_active(row: str) -> str:
    """SQL: the active amount (centavos) of obligation ``row``."""
    return (f"({row}.amount + COALESCE((SELECT SUM(j.amount) FROM obligation_adjustments j "
            f"WHERE j.obligation_id = {row}.id), 0))")


def _plain(row: str) -> str:
    return f"{row}.amount"


def _limits(legacy: bool):
    """0011's LIMITS for the two levels whose rows are now documents:
    (child, fk, child's active amount, parent, parent's limit, parent columns, level)."""
    allotment_limit = lambda p: f"(CASE WHEN {p}.status = 'cancelled' THEN 0 ELSE {allotment_active(p)} END)"
    obligation_limit = (lambda p: f"(CASE WHEN {counting('obligations', p, legacy)} THEN {obligation_active(p)} "
                                  f"ELSE 0 END)")
    return (("obligations", "allotment_id", obligation_active, "allotments", allotment_limit, "amount, status",
             "obligation"),
            ("disbursements", "obligation_id", _plain, "obligations", obligation_limit, "amount, status",
             "disbursement"))


# -- statements: (name on SQLite or None, SQL) -------------------------------------------------------

def fixed_statements(table: str, legacy: bool) -> list[tuple[str | None, str]]:
    """0011's fixed-once-posted triggers of ``table``, applying from the
    posting on (``legacy``: as 0011 made them)."""
    draft, last, posted, final, on, reason, at, own_date = DOCUMENTS[table]
    if legacy:
        moves = (f"NEW.status <> OLD.status AND NOT (OLD.status IN ({_quoted(posted)}) "
                 f"AND NEW.status IN ({_quoted(posted + (final,))}))")
        guard = ""
    else:
        moves = (f"NEW.status <> OLD.status AND NOT ("
                 f"(OLD.status IN ({_quoted(draft)}) AND NEW.status IN ({_quoted(draft + (WITHDRAWN,))})) "
                 f"OR (OLD.status = '{last}' AND NEW.status IN ({_quoted(posted)})) "
                 f"OR (OLD.status IN ({_quoted(posted)}) AND NEW.status IN ({_quoted(posted + (final,))})))")
        guard = f"OLD.status NOT IN ({_quoted(draft)}) AND "
    rewritten = (f"OLD.status = '{final}' AND "
                 f"({' OR '.join(f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in (on, reason, at))})")
    undated = (f"NEW.status = '{final}' AND OLD.status <> '{final}' AND "
               f"(NEW.{on} IS NULL OR NEW.{on} < NEW.{own_date})")
    checks = [(f"{guard}NEW.{column} IS DISTINCT FROM OLD.{column}", column) for column in FIXED[table]]
    checks += [(moves, "status"), (rewritten, on), (undated, on)]
    if not legacy and table == "disbursements":
        checks += [(f"{guard}NEW.{column} IS DISTINCT FROM OLD.{column}", column) for column in BOX_E]
    if _postgresql():
        body = "\n".join(
            f"  IF {condition} THEN RAISE EXCEPTION 'ppaflow_posted:{table}:{column}' USING ERRCODE = '23514', "
            f"DETAIL = json_build_object('id', OLD.id, 'from', OLD.status, 'to', NEW.status)::text; END IF;"
            for condition, column in checks)
        return [(None, f"""
            CREATE OR REPLACE FUNCTION ppaflow_posted_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'ppaflow_posted:{table}:delete' USING ERRCODE = '23001';
              END IF;
            {body}
              RETURN NEW;
            END $$""")]
    return [(f"{table}_are_fixed_{index}",
             f"CREATE TRIGGER {table}_are_fixed_{index} BEFORE UPDATE ON {table} "
             f"WHEN {condition.replace('IS DISTINCT FROM', 'IS NOT')} "
             f"BEGIN SELECT RAISE(ABORT, 'ppaflow_posted:{table}:{column}'); END")
            for index, (condition, column) in enumerate(checks)]


def _raise(level: str, parent: str, limit: str, total: str) -> str:
    return (f"RAISE EXCEPTION 'ppaflow_limit:{level}' USING ERRCODE = '23514', "
            f"DETAIL = json_build_object('parent_id', {parent}, 'limit', {limit}, 'total', {total})::text;")


def limit_statements(legacy: bool) -> list[tuple[str | None, str]]:
    """The limit triggers of the ORS and DV levels (0011's, counting posted rows only)."""
    out: list[tuple[str | None, str]] = []
    for child, fk, child_active, parent, parent_limit, parent_columns, level in _limits(legacy):
        counts = lambda row, child=child: counting(child, row, legacy)
        others = (f"SELECT COALESCE(SUM({child_active('c')}), 0) FROM {child} c "
                  f"WHERE c.{fk} = NEW.{fk} AND {counts('c')}")
        if _postgresql():
            out.append((None, f"""
                CREATE OR REPLACE FUNCTION ppaflow_limit_{child}() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE parent_limit bigint; total bigint;
                BEGIN
                  IF NOT ({counts('NEW')}) THEN RETURN NEW; END IF;
                  -- a move between counting statuses changes no sum: no check, and no lock on the parent taken
                  -- after the child's (that would invert the lock order: allotment, then obligation)
                  IF TG_OP = 'UPDATE' AND {counts('OLD')} AND NEW.amount = OLD.amount
                     AND NEW.{fk} = OLD.{fk} THEN RETURN NEW; END IF;
                  PERFORM 1 FROM {parent} WHERE id = NEW.{fk} FOR UPDATE;
                  SELECT {parent_limit('p')} INTO parent_limit FROM {parent} p WHERE p.id = NEW.{fk};
                  SELECT COALESCE(SUM({child_active('c')}), 0) INTO total FROM {child} c
                    WHERE c.{fk} = NEW.{fk} AND {counts('c')} AND c.id <> NEW.id;
                  total := total + {child_active('NEW')};
                  IF total > COALESCE(parent_limit, 0) THEN
                    {_raise(level, f'NEW.{fk}', 'parent_limit', 'total')}
                  END IF;
                  RETURN NEW;
                END $$"""))
            out.append((None, f"""
                CREATE OR REPLACE FUNCTION ppaflow_limit_{parent}_covers() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE total bigint;
                BEGIN
                  SELECT COALESCE(SUM({child_active('c')}), 0) INTO total FROM {child} c
                    WHERE c.{fk} = NEW.id AND {counts('c')};
                  IF total > {parent_limit('NEW')} THEN
                    {_raise(level, 'NEW.id', parent_limit('NEW'), 'total')}
                  END IF;
                  RETURN NEW;
                END $$"""))
            continue
        limit = f"COALESCE((SELECT {parent_limit('p')} FROM {parent} p WHERE p.id = NEW.{fk}), 0)"
        abort = f"BEGIN SELECT RAISE(ABORT, 'ppaflow_limit:{level}'); END"
        out.append((f"{child}_within_{parent}_insert",
                    f"CREATE TRIGGER {child}_within_{parent}_insert BEFORE INSERT ON {child} "
                    f"WHEN {counts('NEW')} AND ({others}) + {child_active('NEW')} > {limit} {abort}"))
        out.append((f"{child}_within_{parent}_update",
                    f"CREATE TRIGGER {child}_within_{parent}_update BEFORE UPDATE OF amount, status, {fk} ON {child} "
                    f"WHEN {counts('NEW')} AND ({others} AND c.id <> NEW.id) + {child_active('NEW')} > {limit} "
                    f"{abort}"))
        out.append((f"{parent}_covers_{child}",
                    f"CREATE TRIGGER {parent}_covers_{child} BEFORE UPDATE OF {parent_columns} ON {parent} "
                    f"WHEN (SELECT COALESCE(SUM({child_active('c')}), 0) FROM {child} c WHERE c.{fk} = NEW.id "
                    f"AND {counts('c')}) > {parent_limit('NEW')} {abort}"))
    return out


def adjustment_statements(legacy: bool) -> list[tuple[str | None, str]]:
    """0011's adjustment limit triggers, counting posted ORS and DV only."""
    ors = lambda row: counting("obligations", row, legacy)
    dv = lambda row: counting("disbursements", row, legacy)
    allotment_after = f"{allotment_active('a')} + NEW.amount"
    obligation_after = f"{obligation_active('o')} + NEW.amount"
    obligated = ("(SELECT COALESCE(SUM(" + obligation_active('c') + "), 0) FROM obligations c "
                 f"WHERE c.allotment_id = a.id AND {ors('c')})")
    allotted = ("(SELECT COALESCE(SUM(" + allotment_active('c') + "), 0) FROM allotments c "
                "WHERE c.program_budget_id = a.program_budget_id AND c.status <> 'cancelled')")
    disbursed = f"(SELECT COALESCE(SUM(c.amount), 0) FROM disbursements c WHERE c.obligation_id = o.id AND {dv('c')})"
    obligated_beside = ("(SELECT COALESCE(SUM(" + obligation_active('c') + "), 0) FROM obligations c "
                        f"WHERE c.allotment_id = o.allotment_id AND {ors('c')})")
    allotment_limit = f"(CASE WHEN a.status = 'cancelled' THEN 0 ELSE {allotment_active('a')} END)"
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
                (f"{ors('o')} AND {obligated_beside} + NEW.amount > {allotment_limit}", "obligation",
                 allotment_limit, f"{obligated_beside} + NEW.amount"),
            ]),
    }
    out: list[tuple[str | None, str]] = []
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
            out.append((None, f"""
                CREATE OR REPLACE FUNCTION ppaflow_limit_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE limit_value bigint; total_value bigint;
                BEGIN
                {locks}
                {body}
                RETURN NEW;
                END $$"""))
            continue
        for index, (condition, level, _, _) in enumerate(conditions):
            out.append((f"{table}_within_limits_{index}",
                        f"CREATE TRIGGER {table}_within_limits_{index} BEFORE INSERT ON {table} "
                        f"WHEN EXISTS (SELECT 1 {source} AND ({condition})) "
                        f"BEGIN SELECT RAISE(ABORT, 'ppaflow_limit:{level}'); END"))
    return out


#: (table, date column): document dates an UPDATE may set (a draft's, a DV's at Box E); refused in a closed period.
DOCUMENT_DATES = (("obligations", "obligation_date"), ("disbursements", "disbursement_date"))
CLOSED = "c.status IN ('closed', 'reopening')"


def period_statements() -> list[tuple[str | None, str]]:
    """Period-open triggers (0015) on an UPDATE of an ORS's or DV's date."""
    out: list[tuple[str | None, str]] = []
    for table, column in DOCUMENT_DATES:
        name = f"{table}_{column}_period_open_update"
        if _postgresql():
            out.append((None, f"CREATE TRIGGER {name} BEFORE UPDATE OF {column} ON {table} FOR EACH ROW "
                              f"WHEN (OLD.{column} IS DISTINCT FROM NEW.{column}) "
                              f"EXECUTE FUNCTION ppaflow_period_open('{column}')"))
            continue
        out.append((name,
                    f"CREATE TRIGGER {name} BEFORE UPDATE OF {column} ON {table} "
                    f"WHEN OLD.{column} IS NOT NEW.{column} AND EXISTS (SELECT 1 FROM period_closures c "
                    f"WHERE c.organization_id = NEW.organization_id "
                    f"AND c.fiscal_year = CAST(strftime('%Y', NEW.{column}) AS INTEGER) "
                    f"AND c.quarter = (CAST(strftime('%m', NEW.{column}) AS INTEGER) + 2) / 3 AND {CLOSED}) "
                    f"BEGIN SELECT RAISE(ABORT, 'period_closed: {table} {column} is in a closed period of its MOA; "
                    "post the correction in the open period'); END"))
    return out


def _statements(legacy: bool) -> list[tuple[str | None, str]]:
    return (fixed_statements("obligations", legacy) + fixed_statements("disbursements", legacy)
            + limit_statements(legacy) + adjustment_statements(legacy))


# -- the tables -------------------------------------------------------------------------------------

def _alter_tables(legacy: bool) -> None:
    """The status check constraints (and, upgrading, the DV's Box E columns
    and its wider status); on SQLite a rebuild of both tables."""
    for table in DOCUMENTS:
        with op.batch_alter_table(table, schema=None, recreate="always" if not _postgresql() else "auto") as batch:
            batch.drop_constraint(batch.f(f'ck_{table}_status'), type_='check')
            if table == "disbursements" and not legacy:
                batch.alter_column('status', existing_type=sa.String(length=10), type_=sa.String(length=20),
                                   existing_nullable=False)
                for column in BOX_E:
                    batch.add_column(sa.Column(column, sa.String(length=40), nullable=True))
            if table == "disbursements" and legacy:
                for column in BOX_E:
                    batch.drop_column(column)
                batch.alter_column('status', existing_type=sa.String(length=20), type_=sa.String(length=10),
                                   existing_nullable=False)
            batch.create_check_constraint(batch.f(f'ck_{table}_status'),
                                          f"status IN ({_quoted(_statuses(table, legacy))})")


def _remake(legacy: bool) -> None:
    """Alter the tables and remake the triggers (PostgreSQL: replace the
    functions; SQLite: every trigger set aside and put back in creation
    order, the remade ones in the place of those they replace, new ones
    after the last trigger of their group)."""
    statements = _statements(legacy)
    if _postgresql():
        # PostgreSQL alters a column's type only with no trigger naming it: set the tables' triggers aside
        triggers = op.get_bind().exec_driver_sql(
            "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid IN ('obligations'::regclass, 'disbursements'::regclass) AND NOT tgisinternal "
            "ORDER BY oid").all()
        for name, table, _ in triggers:
            ddl(f'DROP TRIGGER "{name}" ON {table}')
        _alter_tables(legacy)
        for _, _, definition in triggers:
            ddl(definition)
        for _, sql in statements:
            ddl(sql)
        return
    bind = op.get_bind()
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL ORDER BY rowid").all()
    for name, _sql in triggers:
        ddl(f'DROP TRIGGER IF EXISTS "{name}"')
    _alter_tables(legacy)
    remade = dict(statements)
    existing = {name for name, _ in triggers}
    # a remade trigger without a namesake (the Box E checks) goes after the last of its table's fixed ones
    extra: dict[str, list[str]] = {}
    for name, sql in statements:
        if name not in existing:
            group = name.rsplit("_", 1)[0]
            anchor = max((n for n in existing if n.rsplit("_", 1)[0] == group),
                         key=lambda n: int(n.rsplit("_", 1)[1]) if n.rsplit("_", 1)[1].isdigit() else -1)
            extra.setdefault(anchor, []).append(sql)
    for name, sql in triggers:
        if legacy and name in _UPGRADE_ONLY:
            continue
        ddl(remade.get(name, sql))
        for more in extra.get(name, []):
            ddl(more)


#: SQLite triggers only this revision makes (dropped on downgrade).
_UPGRADE_ONLY = {f"disbursements_are_fixed_{len(FIXED['disbursements']) + 3 + i}" for i in range(len(BOX_E))} | {
    f"{table}_{column}_period_open_update" for table, column in DOCUMENT_DATES}


def upgrade() -> None:
    _remake(legacy=False)
    for _, sql in period_statements():
        ddl(sql)


def downgrade() -> None:
    bind = op.get_bind()
    drafts = bind.exec_driver_sql(
        "SELECT (SELECT COUNT(*) FROM obligations WHERE status IN ('draft', 'charges_certified', 'withdrawn')) + "
        "(SELECT COUNT(*) FROM disbursements WHERE status IN ('draft', 'necessary_certified', 'entry_recorded', "
        "'cash_certified', 'approved', 'withdrawn'))").scalar()
    if drafts:
        raise RuntimeError(f"{drafts} ORS or DV are drafts or withdrawn; revision 0015 has no place for them")
    for table, column in DOCUMENT_DATES:
        ddl(f"DROP TRIGGER IF EXISTS {table}_{column}_period_open_update" + (f" ON {table}" if _postgresql() else ""))
    _remake(legacy=True)
