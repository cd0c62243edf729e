"""Set-based writes of many rows in one statement.

PostgreSQL gets one ``UPDATE ... FROM unnest(...)`` or ``INSERT ... SELECT
FROM unnest(...)`` (one array parameter per column, whatever the row count);
SQLite, which runs in process, gets the rows as one JSON array of arrays
bound once, read back by ``json_each`` (``UPDATE ... FROM`` and ``INSERT ...
SELECT``, driver SQL): no per-row statement step, reset and binding, about
a fifth cheaper than an ``executemany`` of 10,000 rows (issue 17 item 3;
docs/design.md §9). Rows with a value JSON cannot carry exactly (a float,
a bool, bytes, an integer beyond 53 bits, text with a NUL) go as one
``executemany`` of plain tuples instead. Money columns are written as raw
centavos.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

import orjson
from sqlalchemy import Connection, Table, inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from db.types import utcnow

#: ``Session.info`` key set when the session's transaction has written
#: (``note_write``; read by ``services.unit_of_work`` to tell a COMMIT whose
#: outcome is unknown from one that had nothing to lose).
WROTE = "ppaflow_wrote"

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
    values = {c: [row[c] for row in rows] for c in columns}
    versions = [row["version"] for row in rows] if check_version else None
    return _update(session, table, [row["id"] for row in rows], values, versions, bump)


def update_column(session: Session, table: Table, column: str, values: Mapping[int, object]) -> list[int]:
    """``SET column = values[id]`` for every id (see ``update_rows``)."""
    if not values:
        return []
    return _update(session, table, list(values), {column: list(values.values())}, None, True)


def note_write(session: Session) -> None:
    """Note in ``session.info`` (``WROTE``) that its transaction wrote: SQL
    sent through the driver (``exec_driver_sql``, as every writer here
    does) passes neither the ORM's flush nor its ``do_orm_execute`` event,
    which note the others. A connection lost during the COMMIT of such a
    transaction is then reported as of unknown outcome, not as "nothing was
    saved" (docs/design.md §5, the commit outcome)."""
    session.info[WROTE] = True


def _update(session: Session, table: Table, ids: list[int], values: Mapping[str, list[object]],
            versions: list[int] | None, bump: bool) -> list[int]:
    """``update_rows`` given column by column: ``ids[k]`` gets ``values[c][k]``
    for each column ``c`` (and is skipped unless its version is
    ``versions[k]``, when given)."""
    columns = list(values)
    unknown = [c for c in columns if c not in ARRAY_TYPES]
    if unknown:
        raise ValueError(f"bulk update of {unknown} is not supported")
    note_write(session)
    dialect = session.get_bind().dialect
    now = utcnow()
    if dialect.name == "postgresql":
        assignments = ", ".join(f"{c} = v.{c}" for c in columns)
        stamp_sql = ", version = t.version + 1, updated_at = %(now)s" if bump else ""  # PostgreSQL's (driver SQL)
        version_check = " AND t.version = v.version" if versions is not None else ""
        names = ["id", *columns] + (["version"] if versions is not None else [])
        types = ["integer", *(ARRAY_TYPES[c] for c in columns)] + (["integer"] if versions is not None else [])
        # %(name)b: the arrays travel in binary (see insert_rows).
        arrays = ", ".join(f"CAST(%({n})b AS {t}[])" for n, t in zip(names, types, strict=True))
        params = {"id": ids, **values} | ({"version": versions} if versions is not None else {}) | {"now": now}
        return session.connection().exec_driver_sql(
            f"UPDATE {table.name} AS t SET {assignments}{stamp_sql} "
            f"FROM unnest({arrays}) AS v({', '.join(names)}) WHERE t.id = v.id{version_check} RETURNING t.id",
            params).scalars().all()
    stamp = rendered_stamp(table, dialect, now)  # rendered once, by the column's own type, as it stores it
    tail = (stamp,) if bump else ()
    connection = session.connection()
    stamp_sql = ", version = version + 1, updated_at = ?" if bump else ""
    if versions is None:
        rows = json_rows([ids, *values.values()])
        if rows is not None:  # one statement reads every row from one JSON parameter (json_each)
            picked = ", ".join(f"json_extract(value, '$[{k}]') AS {n}" for k, n in enumerate(["id", *columns]))
            connection.exec_driver_sql(
                f"UPDATE {table.name} SET {', '.join(f'{c} = v.{c}' for c in columns)}{stamp_sql} "
                f"FROM (SELECT {picked} FROM json_each(?)) AS v WHERE {table.name}.id = v.id", (*tail, rows))
            return list(ids)
    # SQLite runs in process: one executemany of plain tuples (``?`` placeholders, driver SQL), which
    # SQLAlchemy passes through as they are, with no per-row work on bound parameters.
    sets = ", ".join(f"{c} = ?" for c in columns) + stamp_sql
    statement = f"UPDATE {table.name} SET {sets} WHERE id = ?"
    if versions is None:
        connection.exec_driver_sql(statement, [(*row, *tail, i) for i, row in zip(
            ids, zip(*values.values(), strict=True), strict=True)])
        return list(ids)
    written = []
    for i, row, version in zip(ids, zip(*values.values(), strict=True), versions, strict=True):
        # the version check may skip rows: find out which, one by one
        written += connection.exec_driver_sql(statement + " AND version = ? RETURNING id",
                                              (*row, *tail, i, version)).scalars().all()
    return written


#: The types of the values ``json_rows`` passes: JSON holds them exactly, and SQLite's ``json_extract``
#: gives them back as the driver would have bound them (INTEGER, TEXT, NULL); integers only within 53 bits
#: (``orjson.OPT_STRICT_INTEGER``): ``json_extract`` reads 2**63 and above as a REAL.
JSON_EXACT = frozenset({int, str, type(None)})


def json_rows(columns: Sequence[Sequence[object]]) -> str | None:
    """Rows given column by column, as one JSON array of arrays (row ``k``
    is ``[columns[0][k], columns[1][k], ...]``) for SQLite's ``json_each``;
    ``None`` when some value would not come back exactly as the driver binds
    it (anything but ``int``, ``str`` and ``None``; an integer beyond 53
    bits, which SQLite could read back as a REAL; text holding a NUL), for
    the caller to send an ``executemany`` (which refuses an integer beyond
    64 bits, as before)."""
    if not all(set(map(type, column)) <= JSON_EXACT for column in columns):
        return None
    try:
        data = orjson.dumps(list(zip(*columns, strict=True)), option=orjson.OPT_STRICT_INTEGER)
    except orjson.JSONEncodeError:  # an int beyond 53 bits, a lone surrogate
        return None
    if b"\\u0000" in data:  # json_extract would give text cut at the NUL
        return None
    return data.decode()


def json_by_id(values: Mapping[int, object]) -> str | None:
    """Row id -> value as one JSON object (``{"<id>": value, ...}``, in the
    mapping's order) for SQLite's ``json_each``, which gives each row's id
    as its ``key`` and the value as its ``value``: no ``json_extract`` per
    row (``db.audit.update_amounts``). ``None`` when some value would not
    come back exactly (``json_rows``: only ``int`` within 53 bits, ``str``
    without a NUL and ``None`` travel), for the caller to write another way."""
    if not set(map(type, values.values())) <= JSON_EXACT:
        return None
    try:
        data = orjson.dumps(values, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_STRICT_INTEGER)
    except orjson.JSONEncodeError:  # an int beyond 53 bits, a lone surrogate
        return None
    if b"\\u0000" in data:  # json_each would give text cut at the NUL
        return None
    return data.decode()


def rendered_value(table: Table, dialect, name: str, value: object) -> object:
    """``value`` of the column ``table.name`` as the driver takes it, for
    SQL sent as text (through the column's own type as this dialect runs
    it, as ``insert_rows`` renders its constants)."""
    return _processed(table, dialect, name, [value])[0]


def rendered_stamp(table: Table, dialect, now) -> object:
    """``now`` as the driver takes it for ``table.updated_at`` in SQL sent
    as text on SQLite (rendered once, by the column's own type as this
    dialect runs it, as ``insert_rows`` renders its values)."""
    return _processed(table, dialect, "updated_at", [now])[0]


def insert_rows(session: Session | Connection, table: Table, columns: Mapping[str, Sequence[object]],
                constants: Mapping[str, object] | None = None) -> int:
    """Insert many rows in one statement, given column by column.

    PostgreSQL gets one ``INSERT ... SELECT ... FROM unnest(...)`` with one
    array parameter per column of ``columns``, whatever the row count (a
    plain ``executemany`` would send one INSERT per row); SQLite one
    ``INSERT ... SELECT ... FROM json_each(?)`` (``json_rows``; else one
    ``executemany``). Values go through each column's own type (so
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
    if isinstance(session, Connection):  # a flush's audit rows: the flush has noted the write
        connection = session
    else:
        connection = session.connection()
        note_write(session)
    dialect = connection.dialect
    if dialect.name == "postgresql":
        sql, params = insert_select(dialect, table, columns, constants)
        connection.exec_driver_sql(sql, params)
        return count
    names = [*columns, *constants]
    fixed = {name: _processed(table, dialect, name, [value])[0] for name, value in constants.items()}
    given = [_processed(table, dialect, n, values) for n, values in columns.items()]
    tail = tuple(fixed.values())
    rows = json_rows(given)
    if rows is not None:  # one statement reads every row from one JSON parameter (json_each)
        picked = [f"json_extract(value, '$[{k}]')" for k in range(len(columns))] + ["?"] * len(constants)
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(picked)} "
                                   "FROM json_each(?)", (*tail, rows))
        return count
    placeholders = ", ".join("?" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})",
                               [(*row, *tail) for row in zip(*given, strict=True)])
    return count


def insert_rows_returning(session: Session, table: Table, columns: Mapping[str, Sequence[object]],
                          constants: Mapping[str, object], returning: Sequence[str]) -> list[tuple]:
    """``insert_rows``, returning the columns ``returning`` of every row
    inserted, in no particular order (the caller tells the rows apart by
    what it returns): one ``INSERT ... SELECT FROM unnest(...) RETURNING``
    on PostgreSQL (``insert_select``); on SQLite, which runs in process,
    one INSERT per row. Values are returned as the driver gives them (no
    result processing: ask for plain columns such as ids and integers)."""
    if not columns or not len(next(iter(columns.values()))):
        return []
    connection = session.connection()
    note_write(session)
    dialect = connection.dialect
    if dialect.name == "postgresql":
        sql, params = insert_select(dialect, table, columns, constants)
        return [tuple(row) for row in connection.exec_driver_sql(f"{sql} RETURNING {', '.join(returning)}",
                                                                 params).all()]
    names = [*columns, *constants]
    tail = tuple(_processed(table, dialect, name, [value])[0] for name, value in constants.items())
    given = [_processed(table, dialect, n, values) for n, values in columns.items()]
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
           f"RETURNING {', '.join(returning)}")
    return [tuple(connection.exec_driver_sql(sql, (*row, *tail)).one()) for row in zip(*given, strict=True)]


def insert_select(dialect, table: Table, columns: Mapping[str, Sequence[object]],
                  constants: Mapping[str, object] | None = None, *, prefix: str = "") -> tuple[str, dict[str, object]]:
    """PostgreSQL's ``INSERT ... SELECT ... FROM unnest(...)`` of
    ``insert_rows`` as driver SQL and its parameters, unsent: for a caller
    that sends it inside a statement of its own (``WITH audited AS (...)
    UPDATE ...``: one round trip for both; ``services.trees._write_path``).
    The caller notes the write (``note_write``).

    Args:
        dialect: a PostgreSQL dialect (``connection.dialect``).
        columns, constants: as ``insert_rows`` (the columns not empty, of
            the same length).
        prefix: put before every parameter name, so that they do not clash
            with the enclosing statement's.
    """
    constants = dict(constants or {})
    # %(name)b: psycopg sends the arrays in binary, which neither side has to escape or parse as text
    # (several times faster for 10,000 strings than the text format).
    arrays = ", ".join(f"CAST(%({prefix}{n})b AS {_column_type(table, n, dialect)}[])" for n in columns)
    selected = [f"v.{n}" for n in columns] + [f"CAST(%({prefix}{n})s AS {_column_type(table, n, dialect)})"
                                              for n in constants]
    sql = (f"INSERT INTO {table.name} ({', '.join([*columns, *constants])}) SELECT {', '.join(selected)} "
           f"FROM unnest({arrays}) AS v({', '.join(columns)})")
    params = {prefix + n: _processed(table, dialect, n, values) for n, values in columns.items()}
    return sql, params | {prefix + n: _processed(table, dialect, n, [value])[0] for n, value in constants.items()}


def sql_type(table: Table, name: str, dialect) -> str:
    """The column ``table.name``'s type as PostgreSQL casts a parameter to
    it in SQL sent as text (``CAST(%(x)s AS <type>)``), without a length."""
    return _column_type(table, name, dialect)


@functools.lru_cache(maxsize=512)
def _column_type(table: Table, name: str, dialect) -> str:
    """The column's type as PostgreSQL casts to it, without a length
    (VARCHAR(40) -> VARCHAR: a too long value fails the INSERT, not the cast).
    Cached by table and column name (a ``Column``'s ``==`` builds SQL: no key)."""
    return re.sub(r"\(.*\)", "", table.c[name].type.compile(dialect=dialect))


@functools.lru_cache(maxsize=512)
def _processor(table: Table, name: str, dialect):
    """The column's bind processor as this dialect runs it (``None``: none)."""
    return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)


def _processed(table: Table, dialect, name: str, values: Sequence[object]) -> list[object]:
    """``values`` of ``table.name`` as the driver takes them: through the
    type as this dialect runs it (a TypeDecorator's own bind processor
    chains only the generic type's, which on SQLite leaves a datetime to
    the driver's (deprecated) adapter)."""
    process = _processor(table, name, dialect)
    return [process(v) for v in values] if process else list(values)


# -- rows read by Core, ORM objects only when needed ----------------------------------------------

@functools.cache
def loaded_columns(model: type) -> tuple:
    """The columns the ORM loads for ``model`` (its column attributes that
    are not deferred, in the mapper's order): what a Core read selects when
    ``attach`` may turn its row into the object later. Cached per model."""
    return tuple(column for _, column in _loaded(model))


@functools.cache
def _keys(model: type) -> tuple[str, ...]:
    """The attribute names of ``loaded_columns(model)``."""
    return tuple(key for key, _ in _loaded(model))


@functools.cache
def _loaded(model: type) -> tuple:
    """``(attribute name, column)`` of each of ``loaded_columns(model)``."""
    return tuple((attr.key, attr.columns[0]) for attr in inspect(model).column_attrs if not attr.deferred)


def attach(session: Session, model: type, row) -> object:
    """The ``model`` object of ``row`` (a row of ``loaded_columns(model)``,
    read in this transaction), as the session would have loaded it, with
    no statement: ``row`` itself when it is already a ``model`` object, the
    object the session already holds under the row's primary key, else a
    new one built from the row's values, persistent and
    unchanged (its deferred attributes expired: they load when read). A
    reader that needs the object only in some cases (a write that changes
    it) reads the row alone and pays for the object then (issue 17), and
    a caller handed either gets the object the same way.

    The session holds a clean object only weakly: once a change to the
    object made here is flushed and the object dropped, a second ``attach``
    of the same row builds it again from the row's values, which are then
    older than the database's (its next flush fails its version check).
    Keep the object for the rest of the transaction (as
    ``services.work_items.Located.ppa`` does), not the row."""
    if isinstance(row, model):
        return row
    held = _held(session, model, row)
    if held is not None:
        return held
    obj = inspect(model).class_manager.new_instance()
    # The values go straight into the object's dict, as the ORM's own loading puts them; the next call
    # marks them all as loaded (no history) and every other attribute as expired.
    obj.__dict__.update(zip(_keys(model), row, strict=True))
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def refresh_held(session: Session, model: type, row) -> None:
    """Give the ``model`` object the session holds for ``row`` (if any) the
    row's values, as a read with ``populate_existing`` would: for a row
    just read under a lock, which is newer than what the object was loaded
    with."""
    held = _held(session, model, row)
    if held is not None:
        for (key, _), value in zip(_loaded(model), row, strict=True):
            set_committed_value(held, key, value)


def _held(session: Session, model: type, row) -> object | None:
    """The ``model`` object the session holds under ``row``'s primary key, if any."""
    mapper = inspect(model)
    return session.identity_map.get(mapper.identity_key_from_primary_key([row[k] for k in _key_positions(model)]))


@functools.cache
def _key_positions(model: type) -> tuple[int, ...]:
    """Where the primary key's columns are in a row of ``loaded_columns(model)``."""
    columns = loaded_columns(model)
    return tuple(next(k for k, column in enumerate(columns) if column is key) for key in inspect(model).primary_key)
