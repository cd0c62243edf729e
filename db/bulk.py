"""Set-based writes of many rows in one statement.

PostgreSQL gets one ``UPDATE ... FROM unnest(...)`` or ``INSERT ... SELECT
FROM unnest(...)`` (one array parameter per column, whatever the row count);
SQLite, which runs in process, gets one ``executemany`` of plain values.
Money columns are written as raw centavos.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Table, text
from sqlalchemy.orm import Session

from db.types import utcnow

#: Columns that may be written in bulk, and their PostgreSQL array types.
ARRAY_TYPES = {"allocated_budget": "bigint", "actual_expenditure": "bigint", "expenditure_opening_balance": "bigint",
               "status": "text", "progress": "int",
               "execution_flag": "text",
               "rolled_expended": "bigint", "rolled_progress": "text", "rollup": "text"}


def update_rows(session: Session, table: Table, rows: Sequence[Mapping[str, object]], columns: Sequence[str], *,
                check_version: bool = False, bump: bool = True) -> list[int]:
    """Write ``columns`` of many rows, bumping each row's ``version`` and ``updated_at``.

    Args:
        table: a table with ``id``, ``version`` and ``updated_at`` columns.
        rows: one mapping per row with ``id``, every column of ``columns``
            (centavos for money; ``None`` allowed) and, with
            ``check_version``, the ``version`` the caller read.
        columns: names from ``ARRAY_TYPES``.
        check_version: skip rows whose version changed since they were read
            (optimistic concurrency).
        bump: bump ``version`` and ``updated_at``; ``False`` for derived
            columns that are not the row's content (stored rollups,
            docs/design.md §4), so an ``If-Match`` on the row still holds.

    Returns:
        The ids of the rows written.
    """
    if not rows:
        return []
    unknown = [c for c in columns if c not in ARRAY_TYPES]
    if unknown:
        raise ValueError(f"bulk update of {unknown} is not supported")
    dialect = session.get_bind().dialect
    now = utcnow()
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    stamp_sql = ", version = t.version + 1, updated_at = %(now)s" if bump else ""  # PostgreSQL's (driver SQL)
    version_check = " AND t.version = v.version" if check_version else ""
    if dialect.name == "postgresql":
        names = ["id", *columns] + (["version"] if check_version else [])
        types = ["integer", *(ARRAY_TYPES[c] for c in columns)] + (["integer"] if check_version else [])
        # %(name)b: the arrays travel in binary (see insert_rows).
        arrays = ", ".join(f"CAST(%({n})b AS {t}[])" for n, t in zip(names, types, strict=True))
        params = {n: [row[n] for row in rows] for n in names} | {"now": now}
        return session.connection().exec_driver_sql(
            f"UPDATE {table.name} AS t SET {assignments}{stamp_sql} "
            f"FROM unnest({arrays}) AS v({', '.join(names)}) WHERE t.id = v.id{version_check} RETURNING t.id",
            params).scalars().all()
    stamp = rendered_stamp(table, dialect, now)
    sets = ", ".join(f"{c} = :{c}" for c in columns) + (", version = version + 1, updated_at = :now" if bump else "")
    statement = f"UPDATE {table.name} SET {sets} WHERE id = :id"
    parameters = [dict(row) | {"now": stamp} for row in rows]
    if not check_version:  # SQLite runs in process: one executemany
        session.execute(text(statement), parameters)
        return [row["id"] for row in rows]
    written = []
    for row in parameters:  # the version check may skip rows: find out which, one by one
        written += session.scalars(text(statement + " AND version = :version RETURNING id"), row).all()
    return written


def rendered_stamp(table: Table, dialect, now) -> object:
    """``now`` as the driver takes it for ``table.updated_at`` in SQL sent
    as text on SQLite (rendered once, by the column's own type, as it
    stores it)."""
    stamp = table.c.updated_at.type.process_bind_param(now, dialect)
    render = table.c.updated_at.type.impl.dialect_impl(dialect).bind_processor(dialect)
    return render(stamp) if render else stamp


def update_column(session: Session, table: Table, column: str, values: Mapping[int, object]) -> list[int]:
    """``SET column = values[id]`` for every id (see ``update_rows``)."""
    return update_rows(session, table, [{"id": i, column: v} for i, v in values.items()], [column])


def insert_rows(session: Session | Connection, table: Table, columns: Mapping[str, Sequence[object]],
                constants: Mapping[str, object] | None = None) -> int:
    """Insert many rows in one statement, given column by column.

    PostgreSQL gets one ``INSERT ... SELECT ... FROM unnest(...)`` with one
    array parameter per column of ``columns``, whatever the row count (a
    plain ``executemany`` would send one INSERT per row); SQLite gets one
    ``executemany``. Values go through each column's own type (so
    ``UTCDateTime`` stores UTC), constants once. Length limits and checks
    apply as for any INSERT (the arrays are cast to the unbounded types).

    Args:
        session: a session (its current connection is used) or a connection.
        table: the table; columns left out get their server defaults.
        columns: column name -> one value per row, all of the same length.
        constants: column name -> the value of every row.

    Returns:
        The number of rows inserted (0 sends nothing).

    Raises:
        ValueError: the columns are not of the same length.
    """
    constants = dict(constants or {})
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    if not count:
        return 0
    connection = session if isinstance(session, Connection) else session.connection()
    dialect = connection.dialect

    def processed(name: str, values: Sequence[object]) -> list[object]:
        process = table.c[name].type.bind_processor(dialect)
        return [process(v) for v in values] if process else list(values)

    names = [*columns, *constants]
    fixed = {name: processed(name, [value])[0] for name, value in constants.items()}
    if dialect.name == "postgresql":
        def sql_type(name: str) -> str:  # VARCHAR(40) -> VARCHAR: a too long value fails the INSERT, not the cast
            return re.sub(r"\(.*\)", "", table.c[name].type.compile(dialect=dialect))

        # %(name)b: psycopg sends the arrays in binary, which neither side has to escape or parse as text
        # (several times faster for 10,000 strings than the text format).
        arrays = ", ".join(f"CAST(%({n})b AS {sql_type(n)}[])" for n in columns)
        selected = [f"v.{n}" for n in columns] + [f"CAST(%({n})s AS {sql_type(n)})" for n in constants]
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(selected)} "
            f"FROM unnest({arrays}) AS v({', '.join(columns)})",
            {n: processed(n, values) for n, values in columns.items()} | fixed)
        return count
    placeholders = ", ".join("?" for _ in names)
    rows = zip(*(processed(n, values) for n, values in columns.items()), strict=True)
    tail = tuple(fixed.values())
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})",
                               [(*row, *tail) for row in rows])
    return count
