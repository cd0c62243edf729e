"""Set-based writes of many rows in one statement.

PostgreSQL gets one ``UPDATE ... FROM unnest(ids, values)`` (two array
parameters, whatever the row count); SQLite, which runs in process, gets one
``executemany`` of plain values. Money columns are written as raw centavos.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from db.types import utcnow

_ARRAY_TYPES = {"allocated_budget": "bigint", "actual_expenditure": "bigint", "status": "text", "progress": "int"}


def update_column(session: Session, table: Table, column: str, values: Mapping[int, object]) -> int:
    """``SET column = values[id]`` for every id, bumping ``version`` and
    ``updated_at`` of each row.

    Args:
        table: a table with ``id``, ``version`` and ``updated_at`` columns.
        column: one of the columns of ``_ARRAY_TYPES``.
        values: row id -> new value (centavos for money; ``None`` allowed).

    Returns:
        The number of rows written.
    """
    if not values:
        return 0
    if column not in _ARRAY_TYPES:
        raise ValueError(f"bulk update of {column!r} is not supported")
    ids, new_values = list(values), list(values.values())
    dialect = session.get_bind().dialect
    now = utcnow()
    if dialect.name == "postgresql":
        result = session.execute(
            text(f"UPDATE {table.name} AS t SET {column} = v.value, version = t.version + 1, updated_at = :now "
                 f"FROM unnest(CAST(:ids AS integer[]), CAST(:values AS {_ARRAY_TYPES[column]}[])) AS v(id, value) "
                 "WHERE t.id = v.id"),
            {"ids": ids, "values": new_values, "now": now})
        return result.rowcount
    # The timestamp is rendered once, by the column's own type, as it stores it.
    stamp = table.c.updated_at.type.process_bind_param(now, dialect)
    render = table.c.updated_at.type.impl.dialect_impl(dialect).bind_processor(dialect)
    stamp = render(stamp) if render else stamp
    result = session.execute(
        text(f"UPDATE {table.name} SET {column} = :value, version = version + 1, updated_at = :now WHERE id = :id"),
        [{"id": i, "value": v, "now": stamp} for i, v in zip(ids, new_values, strict=True)])
    return result.rowcount
