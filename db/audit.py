"""The audit trail: every create, update and delete of PPAs, work items and
the budget rows, field by field, with who, when and in which request
(issue 5, docs/design.md §1 "the audit log").

Two paths write it, both inside the transaction that makes the change:

- ORM changes: an ``after_flush`` listener compares every audited object's
  attributes with their loaded values;
- set-based writes (``db.bulk``, tree locks, cancellations): their callers
  pass the old and new values to ``record`` (or, for one field of many
  rows, already rendered and column by column, to ``record_field``; for
  rows created by Core INSERTs, such as a generated execution project, to
  ``record_creates``).

Either path writes all its rows in one INSERT (``db.bulk.insert_rows``: one
``INSERT ... SELECT FROM unnest(...)`` on PostgreSQL, one ``INSERT ...
SELECT FROM json_each(?)`` on SQLite), so a distribution over 10,000 work items sends one statement
for its 10,000 audit rows (issue 17, item 3; docs/design.md §9).

Who and which request come from ``audit_context`` (set per request by the
web layer, per job by the runner, per command by the CLI). The table is
append-only at the database level (migration triggers).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Table, Text, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from db import db
from db.bulk import (insert_rows, insert_select, json_by_id, note_write, rendered_stamp, rendered_value,
                     sql_type)
from db.types import UTCDateTime, utcnow
from workflow.money import format_centavos


class AuditEntry(db.Model):
    """One audited change. ``field`` is ``None`` for a create (``new_value``
    holds every field as JSON) and a delete (``old_value`` does)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    field: Mapped[str | None] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the rule set in force for the request or job that made the change, when it consulted the rules
    rules_hash: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class AuditContext:
    """Who is changing things and under which request or job id."""

    actor_id: int | None = None
    actor: str = "system"
    request_id: str | None = None


_context: ContextVar[AuditContext] = ContextVar("ppaflow_audit_context", default=AuditContext())


def set_context(context: AuditContext) -> None:
    """Set the audit context for the rest of this request or job."""
    _context.set(context)


def get_context() -> AuditContext:
    """The current audit context."""
    return _context.get()


@contextmanager
def audit_context(context: AuditContext) -> Iterator[None]:
    """Use ``context`` inside the block."""
    token = _context.set(context)
    try:
        yield
    finally:
        _context.reset(token)


def _no_rules() -> str | None:
    return None


_rules_hash: list[Callable[[], str | None]] = [_no_rules]


def use_rules_hash(source: Callable[[], str | None]) -> None:
    """Record on each audit row the hash ``source()`` returns: the rule set
    the current request or job decided with, ``None`` when it consulted no
    rule (``services.runtime.current_hash``; docs/design.md §13)."""
    _rules_hash[0] = source


#: Fields never recorded: bookkeeping that changes with every write.
IGNORED = frozenset({"version", "updated_at", "updated_by_id",
                     # stored rollups (docs/design.md §4): derived from audited fields, never entered
                     "rolled_expended", "rolled_progress", "rollup", "rollup_key"})


def render(value: Any) -> str | None:
    """A value as the audit log stores it: JSON text (money as a string)."""
    if value is None:
        return None
    kind = type(value)
    if kind is Decimal:  # the text json.dumps gives, without its cost (a Decimal's text needs no escapes)
        return '"' + str(value) + '"'
    if kind is int:
        return str(value)
    return json.dumps(_plain(value))


def _plain(value: Any) -> Any:
    """A column value as JSON can hold it: ``Decimal`` as its string, dates
    and times in ISO 8601, anything else as it is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _constants(context: AuditContext, now: datetime, rules_hash: str | None) -> dict[str, Any]:
    """The columns every row of one write shares: who, when, which request and rule set."""
    return {"actor_id": context.actor_id, "actor": context.actor, "request_id": context.request_id,
            "created_at": now, "rules_hash": rules_hash}


def record(session: Session, entity: str, changes: Iterable[tuple[int, str, Any, Any, int | None]]) -> int:
    """Record field changes made by a set-based write.

    Args:
        changes: ``(entity_id, field, old, new, organization_id)`` per change;
            a change whose old and new values are equal is left out.

    Returns:
        The number of audit rows written, in one INSERT whatever their count
        (``db.bulk.insert_rows``; none when nothing changed). Pending ORM
        changes are flushed first, as any statement of the session would.
    """
    rows = _rows(entity, changes)
    if rows is None:
        return 0
    if session.autoflush:
        session.flush()
    return insert_rows(session, AuditEntry.__table__, *rows)


def record_statement(session: Session, entity: str, changes: Iterable[tuple[int, str, Any, Any, int | None]], *,
                     prefix: str = "audit_") -> tuple[str, dict[str, Any]] | None:
    """What ``record`` would send, unsent, for a caller on PostgreSQL that
    sends it inside a statement of its own (``WITH audited AS (<INSERT>)
    UPDATE ...``: the audit rows and the change they record in one round
    trip; ``services.trees._write_path``): the same rows, the same flush
    of pending ORM changes first (``db.bulk.insert_select``).

    Args:
        changes: as ``record``.
        prefix: put before every parameter name (``db.bulk.insert_select``).

    Returns:
        The INSERT as driver SQL and its parameters; ``None`` when nothing
        changed (nothing to insert).
    """
    rows = _rows(entity, changes)
    if rows is None:
        return None
    if session.autoflush:
        session.flush()
    return insert_select(session.get_bind().dialect, AuditEntry.__table__, *rows, prefix=prefix)


def _rows(entity: str, changes: Iterable[tuple[int, str, Any, Any, int | None]]
          ) -> tuple[dict[str, list[Any]], dict[str, Any]] | None:
    """``record``'s rows, column by column, and the columns they share
    (``db.bulk.insert_rows``'s ``columns`` and ``constants``); ``None`` when
    no change is left."""
    context, now, rules_hash = get_context(), utcnow(), _rules_hash[0]()
    ids, fields, olds, news, organizations = [], [], [], [], []
    for entity_id, field, old, new, organization in changes:
        if old != new:
            ids.append(entity_id)
            fields.append(field)
            olds.append(render(old))
            news.append(render(new))
            organizations.append(organization)
    if not ids:
        return None
    return ({"entity_id": ids, "field": fields, "old_value": olds, "new_value": news, "organization_id": organizations},
            {"entity": entity, "action": "update"} | _constants(context, now, rules_hash))


def record_field(session: Session, entity: str, field: str, organization_id: int | None, ids: Sequence[int],
                 olds: Sequence[str | None], news: Sequence[str | None]) -> int:
    """``record`` for changes of one field of many rows of one organization
    (a distribution's allocations), given column by column and already
    rendered as the log stores them (``render``, ``render_centavos``): the
    same audit rows, without a tuple and two ``render`` calls per change.

    Args:
        ids, olds, news: the id, old and new text of each change, of the same
            length; a change whose old and new text are equal is left out.

    Returns:
        The number of audit rows written, in one INSERT (none when nothing changed).
    """
    if any(old == new for old, new in zip(olds, news, strict=True)):
        kept = [k for k, (old, new) in enumerate(zip(olds, news, strict=True)) if old != new]
        ids, olds, news = [ids[k] for k in kept], [olds[k] for k in kept], [news[k] for k in kept]
    if not ids:
        return 0
    context, now, rules_hash = get_context(), utcnow(), _rules_hash[0]()
    if session.autoflush:
        session.flush()
    return insert_rows(session, AuditEntry.__table__, {"entity_id": ids, "old_value": olds, "new_value": news}, {
        "entity": entity, "action": "update", "field": field, "organization_id": organization_id,
    } | _constants(context, now, rules_hash))


def update_amounts(session: Session, entity: str, table: Table, column: str, organization_id: int | None,
                   amounts: Mapping[int, int | None]) -> None:
    """Set an amount column of many rows and audit each change, with the
    old amounts never leaving the database: ``SET column = amounts[id]``
    on every row named (``version`` + 1, ``updated_at`` now, as
    ``db.bulk.update_column``) and, in the order of ``amounts``, one
    ``update`` audit row of ``column`` per row whose amount changes, its
    old and new values rendered by the database exactly as
    ``render_centavos`` renders them: the rows ``record_field`` writes for
    the same change. The INSERT reads the old amounts before the UPDATE
    writes the new ones. SQLite gets the two statements, both reading the
    amounts from one JSON object bound once (``db.bulk.json_by_id``; an
    amount beyond 53 bits goes as two ``executemany`` of the same SQL);
    PostgreSQL one (``WITH audited AS (INSERT ...) UPDATE ...``, the
    amounts as binary arrays). Pending ORM changes are flushed first, as
    ``record`` does (docs/design.md §9, the distribution's audit rows).

    Args:
        entity: the audited entity (``work_item``).
        table: a table with ``id``, ``version``, ``updated_at`` and
            ``column``, an amount as integer centavos (``db.types.Money``).
        amounts: row id -> its new amount (centavos, or ``None``).
    """
    if not amounts:
        return
    if session.autoflush:
        session.flush()
    connection = session.connection()
    note_write(session)
    dialect = connection.dialect
    entries = AuditEntry.__table__
    now = utcnow()
    constants = {"entity": entity, "action": "update", "field": column, "organization_id": organization_id} \
        | _constants(get_context(), now, _rules_hash[0]())
    names = ", ".join(["entity_id", "old_value", "new_value", *constants])
    if dialect.name == "postgresql":
        fixed = ", ".join(f"CAST(%(audit_{n})s AS {sql_type(entries, n, dialect)})" for n in constants)
        connection.exec_driver_sql(
            "WITH v AS (SELECT * FROM unnest(CAST(%(ids)b AS integer[]), CAST(%(amounts)b AS bigint[])) "
            "WITH ORDINALITY AS v(id, amount, k)), "
            f"audited AS (INSERT INTO {entries.name} ({names}) SELECT t.id, {_rendered_sql(f't.{column}', dialect)}, "
            f"{_rendered_sql('v.amount', dialect)}, {fixed} FROM v JOIN {table.name} AS t ON t.id = v.id "
            f"WHERE t.{column} IS DISTINCT FROM v.amount ORDER BY v.k) "
            f"UPDATE {table.name} AS t SET {column} = v.amount, version = t.version + 1, updated_at = %(now)s "
            "FROM v WHERE t.id = v.id",
            {"ids": list(amounts), "amounts": list(amounts.values()), "now": now}
            | {f"audit_{n}": rendered_value(entries, dialect, n, value) for n, value in constants.items()})
        return
    # SQLite: the rows as ``v`` (``key``: the id as text, ``value``: the amount), read by json_each from
    # one parameter, its rows in the order given (CROSS JOIN: SQLite keeps it the outer loop)
    rows = json_by_id(amounts)
    source = "json_each(?) AS v" if rows is not None else "(SELECT ? AS key, ? AS value) AS v"
    fixed = tuple(rendered_value(entries, dialect, n, value) for n, value in constants.items())
    insert = (f"INSERT INTO {entries.name} ({names}) SELECT t.id, {_rendered_sql(f't.{column}', dialect)}, "
              f"{_rendered_sql('v.value', dialect)}, {', '.join('?' for _ in constants)} "
              f"FROM {source} CROSS JOIN {table.name} AS t ON t.id = CAST(v.key AS INTEGER) "
              f"WHERE t.{column} IS NOT v.value")
    update = (f"UPDATE {table.name} SET {column} = v.value, version = version + 1, updated_at = ? "
              f"FROM {source} WHERE {table.name}.id = CAST(v.key AS INTEGER)")
    stamp = rendered_stamp(table, dialect, now)
    if rows is not None:
        connection.exec_driver_sql(insert, (*fixed, rows))
        connection.exec_driver_sql(update, (stamp, rows))
    else:
        connection.exec_driver_sql(insert, [(*fixed, i, amount) for i, amount in amounts.items()])
        connection.exec_driver_sql(update, [(stamp, i, amount) for i, amount in amounts.items()])


def _rendered_sql(amount: str, dialect) -> str:
    """SQL rendering the integer centavos ``amount`` (an expression) as
    ``render_centavos`` does: ``'"1234.56"'``, ``'"-0.05"'``, NULL for NULL."""
    if dialect.name == "postgresql":  # mod(), not %: the statement goes with pyformat parameters
        def pesos(sign: str, value: str) -> str:
            return f"'\"{sign}' || ({value} / 100) || '.' || lpad(mod({value}, 100)::text, 2, '0') || '\"'"
    else:
        def pesos(sign: str, value: str) -> str:
            return f"printf('\"{sign}%d.%02d\"', {value} / 100, {value} % 100)"
    return (f"CASE WHEN {amount} IS NULL THEN NULL WHEN {amount} < 0 THEN {pesos('-', f'-{amount}')} "
            f"ELSE {pesos('', amount)} END")


def record_creates(session: Session, model: type, organization_id: int | None, rows: Sequence[Mapping[str, Any]]
                   ) -> int:
    """Record the creation of rows of an audited ``model`` inserted by a
    set-based write: the same audit rows as the ORM path's (``create``, every
    recorded column as one JSON object, as ``_snapshot`` renders an object
    just flushed), for rows of one organization.

    Args:
        rows: one mapping per row inserted, with ``id`` and every recorded
            column (``KeyError`` otherwise), as written.

    Returns:
        The number of audit rows written, in one INSERT (none for no rows).
    """
    if not rows:
        return 0
    entity, _ = AUDITED[model]
    keys = [attr.key for attr in inspect(model).column_attrs if attr.key not in IGNORED]
    context, now, rules_hash = get_context(), utcnow(), _rules_hash[0]()
    return insert_rows(session, AuditEntry.__table__, {
        "entity_id": [row["id"] for row in rows],
        "new_value": [json.dumps({key: _plain(row[key]) for key in keys}) for row in rows],
    }, {"entity": entity, "action": "create", "organization_id": organization_id}
        | _constants(context, now, rules_hash))


def render_centavos(centavos: int | None) -> str | None:
    """An amount in centavos as the log stores money: exactly
    ``render(workflow.money.from_centavos(centavos))`` (``"1234.56"`` with
    its quotes), without building the ``Decimal``."""
    if centavos is None:
        return None
    return '"' + format_centavos(centavos) + '"'


# -- the ORM path ------------------------------------------------------------------

#: Audited model -> (entity name, function ``(session, obj) -> organization id``).
AUDITED: dict[type, tuple[str, Callable[[Session, Any], int | None]]] = {}


def register(model: type, entity: str, organization_of: Callable[[Session, Any], int | None]) -> None:
    """Audit every ORM create, update and delete of ``model`` as ``entity``."""
    AUDITED[model] = (entity, organization_of)


def _snapshot(obj) -> str:
    """Every recorded column of ``obj`` as one JSON object (creates, deletes)."""
    mapper = inspect(obj).mapper
    return json.dumps({attr.key: _plain(getattr(obj, attr.key)) for attr in mapper.column_attrs
                       if attr.key not in IGNORED})


def _changes(obj) -> list[tuple[str, str | None, str | None]]:
    """``(field, old, new)`` rendered, for each recorded column ``obj`` changed."""
    state = inspect(obj)
    out = []
    changed = state.committed_state  # an attribute not in it has no history to show: skip it unasked
    for attr in state.mapper.column_attrs:
        if attr.key in IGNORED or attr.key not in changed:
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                out.append((attr.key, render(old), render(new)))
    return out


def _after_flush(session: Session, _flush_context) -> None:
    context, now, rules_hash = get_context(), utcnow(), _rules_hash[0]()
    columns: dict[str, list[Any]] = {name: [] for name in (
        "entity", "entity_id", "action", "field", "old_value", "new_value", "organization_id")}

    def add(obj, action: str, changes: Iterable[tuple[str | None, str | None, str | None]]) -> None:
        entity, organization_of = AUDITED[type(obj)]
        changes = list(changes)
        if changes:
            organization = organization_of(session, obj)
            for field, old, new in changes:
                for name, value in zip(columns, (entity, obj.id, action, field, old, new, organization), strict=True):
                    columns[name].append(value)

    for obj in session.new:
        if type(obj) in AUDITED:
            add(obj, "create", [(None, None, _snapshot(obj))])
    for obj in session.dirty:
        if type(obj) in AUDITED and session.is_modified(obj, include_collections=False):
            add(obj, "update", _changes(obj))
    for obj in session.deleted:
        if type(obj) in AUDITED:
            add(obj, "delete", [(None, _snapshot(obj), None)])
    if columns["entity"]:  # one INSERT for the whole flush, whatever its size (db.bulk.insert_rows)
        insert_rows(session.connection(), AuditEntry.__table__, columns, _constants(context, now, rules_hash))


def install() -> None:
    """Listen to every session's flushes (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
