"""Table rebuilds on SQLite that keep every trigger (docs/design.md §12).

SQLite changes a constraint or drops a column with a foreign key only by
rebuilding the table (Alembic's ``batch_alter_table``). The rebuild drops
the table's own triggers (the limits of revision 0004 as 0011 rewrote them,
the fixed-once-posted triggers of 0011), and while the old table is gone a
trigger of another table that reads it (an adjustment's limit reads
allotments, obligations and program budgets) makes the final rename fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from alembic import op


@contextmanager
def triggers_kept(rewrite: Callable[[str, str], str] | None = None) -> Iterator[None]:
    """Within a migration: on SQLite, set every trigger aside while the body
    rebuilds tables and put each back as it was; on other databases, do
    nothing. They are put back in the order they were created, because
    SQLite fires the triggers of one event in an order that follows it (so a
    re-parented posted row is still refused as fixed before any limit is
    checked). The body must not rename or drop a column a trigger reads.

    Args:
        rewrite: ``(name, sql) -> sql``: the trigger as it is put back, to
            change what a trigger reads while keeping its place in the order
            (migration 0018 makes the allotment limits read a program
            budget's adjusted amount); by default each as it was.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL ORDER BY rowid").all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    yield
    for name, sql in triggers:
        op.execute(rewrite(name, sql) if rewrite else sql)
