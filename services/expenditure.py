"""One source of truth for money spent (issue 12 item 7; docs/design.md §12,
"Money spent and payables").

A PPA is *in the money chain* when it has a program budget with at least
one active allotment (SARO/GARO): its money is then released, obligated
(ORS) and paid (DV) through the chain, and a work item's actual expenditure
is what the chain paid for it:

    actual expenditure(item) = opening balance(item)
                               + active disbursements of the obligations charged to it

An obligation is charged to a work item of its PPA's WBS (``work_item_id``);
one charged to no item is charged to the PPA as a whole, its project (the
root work item). The tree rolls the items' own figures up as before
(``workflow.tree``: expended = own + children's expended), so the budget
tree, the Work items and Budget tabs, the variance alerts
(``services.alerts``) and the MFBM report all show the same figure.

The *opening balance* is the expenditure an item had reported when its PPA
entered the chain (a PPA that enters mid-year keeps its earlier figure,
labelled as such); it is captured the first time the chain's figures are
written after the PPA entered. From then on, direct entry of expenditure is
refused (409 ``expenditure_from_disbursements``).

A PPA outside the chain keeps the figure its MOA reports, and every screen
and report labels it "reported, not disbursed" (``expenditure_source``
``"reported"``).

The figures are stored on the work items (``actual_expenditure``) and
written by ``sync_expenditure`` in the transaction of every posting that
changes them: recording or voiding a disbursement, cancelling an
obligation, releasing or cancelling an allotment. Rows are locked in the
chain's order: allotment → obligation → PPA → work items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, ColumnElement, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from db import db
from db.bulk import update_rows
from db.models import Allotment, Disbursement, Obligation, Ppa, ProgramBudget, WorkItem
from services.trees import ITEMS, in_tree, load_path, record_item_changes, settle_path
from workflow.errors import ExpenditureFromDisbursements, ValidationFailed
from workflow.money import from_centavos

#: ``expenditure_source`` values: paid through the chain, or as the MOA reports it.
DISBURSEMENTS, REPORTED = "disbursements", "reported"
#: How every screen and report labels each source.
SOURCE_LABELS = {DISBURSEMENTS: "disbursed", REPORTED: "reported, not disbursed"}


def in_chain(ppa_id: int | ColumnElement) -> ColumnElement[bool]:
    """The one definition of "a PPA in the money chain", as SQL: it has a
    program budget with at least one active (not cancelled) allotment
    (docs/design.md §12).

    Args:
        ppa_id: a PPA id, or a column holding one (e.g. ``Ppa.id``, to filter
            many PPAs in one statement).

    Returns:
        A boolean SQL expression (``EXISTS``).
    """
    return exists(select(Allotment.id).join(ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)
                  .where(ProgramBudget.ppa_id == ppa_id, Allotment.active))


def is_in_chain(ppa_id: int) -> bool:
    """Whether the PPA ``ppa_id`` is in the money chain (``in_chain``); one statement."""
    return bool(db.session.scalar(select(in_chain(ppa_id))))


def chain_ppa_ids(ppa_ids: Iterable[int]) -> set[int]:
    """Those of ``ppa_ids`` in the money chain, in one statement."""
    ids = list(ppa_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(Ppa.id).where(Ppa.id.in_(ids), in_chain(Ppa.id))))


def source_of(ppa_id: int) -> str:
    """``"disbursements"`` for a PPA in the chain, else ``"reported"``."""
    return DISBURSEMENTS if is_in_chain(ppa_id) else REPORTED


def require_reported(ppa: Ppa, field: str, *, in_the_chain: bool | None = None) -> None:
    """Refuse direct entry of expenditure on a PPA in the chain.

    Args:
        in_the_chain: whether the PPA is in the chain, when the caller read
            it already (``services.work_items.locate`` reads it with the
            item's path); ``None``: one statement reads it (``is_in_chain``).

    Raises:
        ExpenditureFromDisbursements: 409 ``expenditure_from_disbursements``, naming ``field``,
            with a sentence saying why and what to do instead.
    """
    if in_the_chain if in_the_chain is not None else is_in_chain(ppa.id):
        raise ExpenditureFromDisbursements(
            f"PPA {ppa.id} is in the money chain (it has released allotments), so its actual expenditure is "
            "the disbursements (DV) charged to its work items and cannot be entered directly; record an "
            "obligation (ORS) charged to the work item and pay it with a disbursement instead", field=field)


def opening_balance(item: WorkItem, in_the_chain: bool) -> Decimal | None:
    """The item's opening balance (PHP) for a PPA in the chain: the figure
    captured when it entered, or, not yet captured, its figure now (nothing
    has been paid on it since it entered); ``None`` outside the chain."""
    if not in_the_chain:
        return None
    return item.expenditure_opening_balance if item.expenditure_opening_balance is not None \
        else item.actual_expenditure


def tree_opening_balance(root_id: int) -> int:
    """The opening balances of a chain PPA's whole WBS, rooted at
    ``root_id`` (centavos; one statement): what its work items had reported
    when it entered the chain (an item not yet captured counts its figure
    now, as ``opening_balance``)."""
    return int(db.session.scalar(select(func.coalesce(func.sum(type_coerce(
        func.coalesce(ITEMS.c.expenditure_opening_balance, ITEMS.c.actual_expenditure), BigInteger)), 0))
        .where(in_tree(root_id))))


def check_work_item(ppa: Ppa, work_item_id: int | None) -> None:
    """An obligation may be charged only to a work item of its own PPA's WBS.

    Raises:
        ValidationFailed: under ``work_item_id``, when the item is unknown or
            belongs to another PPA's WBS (or the PPA has none).
    """
    if work_item_id is None:
        return
    root = db.session.scalar(select(func.coalesce(ITEMS.c.root_id, ITEMS.c.id)).where(ITEMS.c.id == work_item_id))
    if root is None or root != ppa.execution_project_id:
        raise ValidationFailed({"work_item_id": [(
            f"work item {work_item_id} is not in the work-breakdown structure of PPA {ppa.id}; an obligation is "
            "charged to a work item of its own PPA")]})


def disbursed_by_item(ppa: Ppa, *, after: date | None = None) -> dict[int, int]:
    """Active disbursements of the PPA by the work item their obligation is
    charged to (centavos); those charged to no item go to the project.
    With ``after``, only those dated after that day (earned value's actual
    cost as of a past day, ``services.performance``)."""
    query = (select(Obligation.work_item_id, func.sum(type_coerce(Disbursement.amount, BigInteger)))
             .join(Obligation, Disbursement.obligation_id == Obligation.id)
             .join(Allotment, Obligation.allotment_id == Allotment.id)
             .join(ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)
             .where(ProgramBudget.ppa_id == ppa.id, Disbursement.active)
             .group_by(Obligation.work_item_id))
    if after is not None:
        query = query.where(Disbursement.disbursement_date > after)
    rows = db.session.execute(query)
    out: dict[int, int] = defaultdict(int)
    for item_id, centavos in rows:
        out[item_id if item_id is not None else ppa.execution_project_id] += int(centavos)
    return out


def disbursed_by_item_of(ppas: Iterable[Ppa], *, after: date) -> dict[int, dict[int, int]]:
    """``disbursed_by_item(ppa, after=after)`` of many PPAs in one statement
    (the MFBM report's SPI/CPI column, ``services.performance.spi_cpi``):
    ``{ppa id: {work item id: centavos}}``, a PPA with none absent."""
    by_id = {ppa.id: ppa for ppa in ppas}
    if not by_id:
        return {}
    rows = db.session.execute(
        select(ProgramBudget.ppa_id, Obligation.work_item_id, func.sum(type_coerce(Disbursement.amount, BigInteger)))
        .join(Obligation, Disbursement.obligation_id == Obligation.id)
        .join(Allotment, Obligation.allotment_id == Allotment.id)
        .join(ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)
        .where(ProgramBudget.ppa_id.in_(list(by_id)), Disbursement.active, Disbursement.disbursement_date > after)
        .group_by(ProgramBudget.ppa_id, Obligation.work_item_id))
    out: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for ppa_id, item_id, centavos in rows:
        out[ppa_id][item_id if item_id is not None else by_id[ppa_id].execution_project_id] += int(centavos)
    return out


def sync_expenditure(session: Session, ppa_id: int) -> None:
    """Write the chain's figures on the PPA's work items, in the caller's
    transaction, after a posting that may change them.

    For a PPA in the chain with a WBS: each item's opening balance is
    captured if it was not (its reported figure), and its actual
    expenditure becomes opening balance + the disbursements charged to it;
    changed rows are written in one statement and audited, and the tree is
    settled (rollups, PPA sync, variance alerts). A PPA outside the chain,
    or without a WBS, is left as it is.

    Locks the PPA row (after the allotment or obligation the caller locked).
    """
    ppa = session.scalar(select(Ppa).where(Ppa.id == ppa_id).with_for_update(of=Ppa)
                         .execution_options(populate_existing=True))
    if ppa is None or ppa.execution_project_id is None or not is_in_chain(ppa.id):
        return
    session.flush()
    root_id = ppa.execution_project_id
    paid = disbursed_by_item(ppa)
    # Only the items the chain can have moved: not yet captured, paid before, or paid now
    # (the others keep actual = opening balance); rows locked in the chain's order.
    items = session.execute(select(ITEMS.c.id, type_coerce(ITEMS.c.actual_expenditure, BigInteger),
                                   type_coerce(ITEMS.c.expenditure_opening_balance, BigInteger))
                            .where(in_tree(root_id), or_(ITEMS.c.expenditure_opening_balance.is_(None),
                                                         ITEMS.c.actual_expenditure != ITEMS.c.expenditure_opening_balance,
                                                         ITEMS.c.id.in_(list(paid))))
                            .with_for_update()).all()
    rows, changes = [], {}
    for item_id, actual, stored in items:
        opening = actual if stored is None else int(stored)
        wanted = opening + paid.get(item_id, 0)
        if wanted != actual or stored is None:
            rows.append({"id": item_id, "actual_expenditure": wanted, "expenditure_opening_balance": opening})
        if wanted != actual:
            changes[item_id] = (actual, wanted)
    if not rows:
        return
    path = load_path(list(changes)) if changes else None
    update_rows(session, ITEMS, rows, ["actual_expenditure", "expenditure_opening_balance"])
    record_item_changes(session, ppa, "actual_expenditure", {
        i: (from_centavos(before), from_centavos(after)) for i, (before, after) in changes.items()})
    if path is not None:
        for item_id, (_, after) in changes.items():
            path.nodes[item_id].spent = after
        settle_path(session, ppa, path)
