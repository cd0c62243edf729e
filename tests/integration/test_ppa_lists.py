"""The PPA list as a service (issue 11; docs/design.md §11): sort orders,
exact totals, who saved last, and the timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.models import User
from services import ppas, timelines
from services.ppas import PpaFilters
from workflow.errors import ValidationFailed


def _user(app, person) -> User:
    from db import db

    return db.session.get(User, person.id)


def test_stages_sort_in_the_workflows_order_and_ties_by_id(app, world):
    late = world.create_ppa(title="In budget review")
    world.advance(late["id"], "budget_review")
    early = world.create_ppa(title="Draft")
    middle = world.create_ppa(title="In technical review")
    world.advance(middle["id"], "technical_review")
    with app.app_context():
        user = _user(app, world.focal)
        ascending = [p.id for p in ppas.each_ppa(ppas.list_ppas(user, PpaFilters(), "stage"))]
        descending = [p.id for p in ppas.each_ppa(ppas.list_ppas(user, PpaFilters(), "-stage"))]

    assert ascending == [early["id"], middle["id"], late["id"]]
    assert descending == list(reversed(ascending))


def test_an_unknown_sort_is_refused_naming_the_field(app, world):
    world.focal  # noqa: B018
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        ppas.list_ppas(_user(app, world.focal), PpaFilters(), "-password")

    assert list(refused.value.errors) == ["sort"]


def test_totals_are_exact_to_the_centavo_over_the_filtered_list(app, world):
    for amount in ("0.10", "0.20", "999999999999.99"):
        world.create_ppa(budget_allocation=amount)
    world.create_ppa(budget_allocation="5.00", fiscal_year=2026)
    with app.app_context():
        totals = ppas.list_totals(ppas.list_ppas(_user(app, world.focal), PpaFilters(fiscal_year=2025), "-budget"))

    assert (totals.count, totals.budget) == (3, Decimal("1000000000000.29"))


def test_last_change_names_who_saved_and_the_timeline_groups_one_save(app, world):
    ppa = world.create_ppa(title="Before")
    colleague = world.person("mssd.colleague", "moa_focal", org="MSSD")
    world.patch(f"/api/monitoring-entries/{ppa['id']}", colleague, {"title": "After", "sector": "economic"})
    with app.app_context():
        user = _user(app, world.focal)
        change = ppas.last_change(user, ppa["id"])
        timeline = timelines.ppa_timeline(user, ppa["id"])

    assert change.username == "mssd.colleague" and change.etag == f'"ppa-{ppa["id"]}-v2"'
    assert [entry.kind for entry in timeline] == ["created", "changed"]
    assert {(c.field, c.old, c.new) for c in timeline[1].changes} == {("title", "Before", "After"),
                                                                      ("sector", "social", "economic")}
    assert timeline[1].actor == "mssd.colleague"
