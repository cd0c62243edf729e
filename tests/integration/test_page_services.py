"""The read services behind the Work items, Budget and Execution tabs
(``services.outline``, ``services.money_chain``): they answer what the API
answers, and offer each user exactly what the write services allow."""

from __future__ import annotations

from decimal import Decimal

from services import users
from services.money_chain import read_money_chain
from services.outline import get_outline
from tests.support import Chain


def test_the_outline_figures_are_the_api_tree_and_its_actions_come_from_the_rules(app, world):
    ppa, leaf = world.tracked_ppa("budget_review", template="activity")
    spent = world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "400000.00"},
                              headers=world.focal.headers)
    assert spent.status_code == 200
    item = spent.get_json()

    with app.app_context():
        outline = get_outline(users.get_user("mssd.focal"), ppa["id"])
        node = outline.item(leaf)
        figures = outline.figures(node)
        moves = [(m.trigger, m.dest, m.final) for m in outline.status_actions(node)]
        reviewer = get_outline(users.get_user("bpda.reviewer"), ppa["id"])

    assert (figures.allocated, figures.expended, figures.variance) == (
        Decimal(item["allocated_budget"]), Decimal(item["expended"]), Decimal(item["variance"]))
    assert figures.variance_pct == Decimal(str(item["variance_pct"])) and figures.budget_status == "over_budget"
    assert figures.over_by == Decimal("25000.00") and figures.share == 50
    assert moves == [("start", "in_progress", False), ("complete", "completed", False),
                     ("cancel", "cancelled", True)]
    assert outline.child_types(node) == ("subtask",)
    assert outline.summary.counts["not_started"] == 9 and outline.summary.total == 9
    assert [n.title for n in outline.summary.overspent] == ["Planning & Coordination"]
    assert reviewer.may_edit is False
    assert reviewer.status_actions(node) == () and reviewer.child_types(node) == ()


def test_the_outline_names_the_approval_that_locked_the_allocations(app, world):
    ppa, _ = world.tracked_ppa("executive_approval", template="minimal")

    with app.app_context():
        outline = get_outline(users.get_user("mssd.focal"), ppa["id"])
        locked_by = outline.locked_by
        who = (locked_by.actor.username, locked_by.from_stage, locked_by.to_stage)

    assert outline.locked is True
    assert who == ("mfbm.analyst", "budget_review", "stakeholder_consultation")
    assert outline.unlocking_triggers == ["return_for_revision"]


def test_the_money_chain_balances_are_the_apis_totals(app, world):
    chain = Chain(world)
    first = chain.allot("1000000.00", quarter=1)["id"]
    second = chain.allot("500000.00", quarter=3)["id"]
    cancelled = chain.allot("1.00", quarter=3)["id"]
    etag = _etag(world, f"/api/allotments/{cancelled}")
    assert world.client.post(f"/api/allotments/{cancelled}/cancel", json={"reason": "typo"},
                             headers=world.budget_analyst.headers | {"If-Match": etag}).status_code == 200
    obligation = chain.obligate(first, "400000.00")["id"]
    chain.obligate(second, "100000.00")
    chain.disburse(obligation, "150000.00")

    with app.app_context():
        money = read_money_chain(users.get_user("mssd.focal"), chain.ppa)
        analyst = read_money_chain(users.get_user("mfbm.analyst"), chain.ppa)

    api_budget = chain.get(f"/api/program-budgets/{chain.program_budget}")
    line = money.program_budgets[0]
    assert (str(line.allotted), str(line.unallotted), str(line.obligated), str(line.unobligated),
            str(line.disbursed), str(line.unpaid)) == (
        api_budget["allotted"], api_budget["unallotted"], api_budget["obligated"], api_budget["unobligated"],
        api_budget["disbursed"], api_budget["unpaid"])
    for allotment in money.allotments:
        assert str(allotment.available) == chain.get(f"/api/allotments/{allotment.row.id}")["available"]
    for obligation_line in money.obligations:
        assert str(obligation_line.balance) == chain.get(f"/api/obligations/{obligation_line.row.id}")["balance"]
    quarters = {q.number: (q.allotted, q.available) for q in money.quarters}
    assert quarters == {1: (Decimal("1000000.00"), Decimal("600000.00")), 2: (0, 0),
                        3: (Decimal("500000.00"), Decimal("400000.00")), 4: (0, 0)}
    assert [a.row.id for a in money.open_allotments] == [first, second]
    assert (money.may_release, money.may_spend) == (False, True)
    assert (analyst.may_release, analyst.may_spend) == (True, False)


def _etag(world, path: str) -> str:
    return world.client.get(path, headers=world.admin.headers).headers["ETag"]
