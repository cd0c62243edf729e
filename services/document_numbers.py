"""The series of ORS and DV numbers of each organization (docs/design.md
§12, "Document numbers and modes of payment"; issue 12 item 3).

``number_ors`` and ``number_dv`` are called by ``services.budget`` inside
the use case's transaction, after its chain locks (LOCK_ORDER: the series
row comes after the allotment or obligation and before the PPA and its work
items, which tree writes lock; nothing locks a series row first, so no
deadlock). A number the client gives is checked against the document's
class, fund cluster and date (``workflow.document_numbers``) and moves its
series forward to at least its serial; a missing one is the next serial of
its series: ORS numbers one series per fund cluster and year (GAM Appendix
11), DV numbers one per year (GAM Appendix 32).

The next serial is taken with one ``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`` on the series row: on PostgreSQL the row lock it takes makes a
concurrent generation wait for this transaction and then read the moved
value, so two generations never share a serial; a refused use case rolls
the series back with everything else (no gaps from refusals).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite

from db import db
from db.models import DocumentNumberSeries
from workflow import document_numbers as numbers
from workflow.errors import ValidationFailed


def _advance(organization_id: int, document: str, fund_cluster: str, year: int, *, at_least: int | None) -> int:
    """Move the series forward and return its last serial: by one
    (``at_least`` ``None``: a generation), or to at least ``at_least`` (a
    number given by hand)."""
    session = db.session
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = DocumentNumberSeries.__table__
    first = 1 if at_least is None else at_least
    statement = insert(table).values(organization_id=organization_id, document=document,
                                     fund_cluster=fund_cluster, year=year, last_serial=first)
    moved = (table.c.last_serial + 1 if at_least is None
             else func.max(table.c.last_serial, at_least) if insert is sqlite.insert
             else func.greatest(table.c.last_serial, at_least))
    statement = statement.on_conflict_do_update(
        index_elements=["organization_id", "document", "fund_cluster", "year"],
        set_={"last_serial": moved}).returning(table.c.last_serial)
    return session.execute(statement).scalar_one()


def number_ors(organization_id: int, *, given: str | None, allotment_class: str, fund_cluster: str,
               on: date) -> str:
    """The ORS number of a new ORS of ``organization_id``, of
    ``allotment_class`` (``ps``, ``mooe``, ``finex``, ``co``) charged to
    ``fund_cluster`` (``"01"``) and dated ``on``: ``given`` when it is one
    (its series moves to at least its serial), else the next of the fund
    cluster's series for ``on``'s year, e.g. ``02-01-2026-03-00001``.

    Raises:
        ValidationFailed: ``ors_number`` not in the form of GAM Appendix 11,
            or its class, fund cluster, year or month not the ORS's (the
            sentence names the expected form).
    """
    if given is None:
        serial = _advance(organization_id, "ors", fund_cluster, on.year, at_least=None)
        return numbers.format_ors(allotment_class, fund_cluster, on, serial)
    problem = numbers.ors_problem(given, allotment_class=allotment_class, fund_cluster=fund_cluster, on=on)
    if problem:
        raise ValidationFailed({"ors_number": [problem]})
    _advance(organization_id, "ors", fund_cluster, on.year, at_least=numbers.parse_ors(given).serial)
    return given


def number_dv(organization_id: int, *, given: str | None, on: date) -> str:
    """The DV number of a new DV of ``organization_id`` dated ``on``:
    ``given`` when it is one (its series moves to at least its serial), else
    the next of ``on``'s year, e.g. ``2026-04-0001``.

    Raises:
        ValidationFailed: ``dv_number`` not in the form of GAM Appendix 32,
            or its year or month not the DV date's.
    """
    if given is None:
        serial = _advance(organization_id, "dv", "", on.year, at_least=None)
        return numbers.format_dv(on, serial)
    problem = numbers.dv_problem(given, on=on)
    if problem:
        raise ValidationFailed({"dv_number": [problem]})
    _advance(organization_id, "dv", "", on.year, at_least=numbers.parse_dv(given).serial)
    return given
