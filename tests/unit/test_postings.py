"""Postings by quarter (docs/design.md §12 "Adjustments and transfers"):
adjustments, transfers to and transfers from keep columns of their own,
never netted silently into the originals; appropriation adjustments are
not mixed into the chain's net levels."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from workflow.postings import COLUMNS, Posting, columns_by_quarter, net_by_quarter

D = Decimal
POSTINGS = [
    Posting("allotted", "original", date(2025, 2, 3), D("1000.00"), "allotment 1"),
    Posting("allotted", "transfer_to", date(2025, 8, 1), D("-300.00"), "allotment 1"),
    Posting("allotted", "transfer_from", date(2025, 8, 1), D("300.00"), "allotment 2"),
    Posting("allotted", "adjustment", date(2025, 8, 2), D("-50.00"), "allotment 1"),
    Posting("obligated", "reversal", date(2025, 9, 30), D("-10.00"), "obligation 1"),
    Posting("appropriated", "transfer_to", date(2025, 8, 3), D("-200.00"), "program budget 1"),
    Posting("appropriated", "adjustment", date(2026, 1, 5), D("25.00"), "program budget 1"),
]


def test_each_kind_of_posting_lands_in_its_own_column_with_the_net_beside_it():
    columns = columns_by_quarter(POSTINGS)

    q3 = columns[(2025, 3)]
    assert (q3["allotted"]["transfers_to"], q3["allotted"]["transfers_from"], q3["allotted"]["adjustments"],
            q3["allotted"]["net"]) == (D("-300.00"), D("300.00"), D("-50.00"), D("-50.00"))
    assert q3["obligated"]["reversals"] == D("-10.00")
    assert q3["appropriated"]["transfers_to"] == D("-200.00")
    assert columns[(2025, 1)]["allotted"]["originals"] == D("1000.00")
    assert list(columns) == [(2025, 1), (2025, 3), (2026, 1)]  # quarters from dates, year included
    assert set(q3["allotted"]) == {*COLUMNS.values(), "net"}


def test_the_net_of_the_chain_leaves_appropriation_adjustments_to_the_columns():
    net = net_by_quarter(POSTINGS)

    assert net[(2025, 3)] == {"allotted": D("-50.00"), "obligated": D("-10.00"), "disbursed": D("0")}
    assert (2026, 1) not in net
