"""Reading the audit trail: filtered lists and the CSV export for auditors.

A user sees the audit rows of the organizations they may see (a MOA focal
person: their own MOA's; reviewers and auditors: all).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, select

from db import db
from db.audit import AUDITED, AuditEntry
from db.models import User  # noqa: F401  (registers the audited models)
from services.access import visible_rows
from workflow.text import csv_field

#: Entities whose rows a use case writes itself rather than the ORM:
#: ``personal_data`` (an erasure or purge, ``services.privacy``; issue 15 item 7).
RECORDED_ENTITIES = ("personal_data",)

#: Every audited entity name (``ppa``, ``work_item``, ``allotment``, ...).
AUDITED_ENTITIES = tuple(sorted({entity for entity, _ in AUDITED.values()} | set(RECORDED_ENTITIES)))

CSV_COLUMNS = ("id", "created_at", "entity", "entity_id", "action", "field", "old_value", "new_value", "actor",
               "request_id", "rules_hash")


@dataclass(frozen=True)
class AuditFilters:
    """Filters of ``GET /api/audit``."""

    entity: str | None = None
    id: int | None = None
    field: str | None = None
    actor: str | None = None
    request_id: str | None = None


def list_audit(user: User, filters: AuditFilters) -> Select:
    """Audit rows ``user`` may see, oldest first."""
    query = select(AuditEntry).where(visible_rows(user, AuditEntry.organization_id))
    for column, value in ((AuditEntry.entity, filters.entity), (AuditEntry.entity_id, filters.id),
                          (AuditEntry.field, filters.field), (AuditEntry.actor, filters.actor),
                          (AuditEntry.request_id, filters.request_id)):
        if value is not None:
            query = query.where(column == value)
    return query.order_by(AuditEntry.id)


def csv_lines(query: Select, batch: int = 1000) -> Iterator[str]:
    """The rows of ``query`` as CSV text, header first, read in batches.

    Every field is quoted and every text field made inert for spreadsheets
    (``workflow.text.csv_field``: a leading ``=``, ``+``, ``-``, ``@``, tab or
    carriage return gets a ``'`` in front, per OWASP's CSV-injection advice).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    last_id = 0
    while True:
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        rows = db.session.scalars(query.where(AuditEntry.id > last_id).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            writer.writerow([csv_field(value) for value in (
                row.id, row.created_at.isoformat(), row.entity, row.entity_id, row.action, row.field or "",
                row.old_value or "", row.new_value or "", row.actor, row.request_id or "", row.rules_hash or "")])
        last_id = rows[-1].id
