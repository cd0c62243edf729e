"""Replies dump models through ``web.schemas.Reply``'s shortcuts (issue 17):
the JSON a client reads is the one marshmallow's own way gives, field for
field, for the PPA list, a read and a history with and without a delegator,
and for a PPA with empty optional fields and no organization loaded."""

from __future__ import annotations

from marshmallow import Schema
from sqlalchemy import select

from db import db
from db.models import Ppa, PpaTransition
from tests.api.test_delegations_api import delegate
from web.schemas import HistoryEntrySchema, PpaSchema


def marshmallows_way(schema, obj) -> dict:
    """What marshmallow's ``Schema._serialize`` gives, field by field, without the shortcuts."""
    return Schema._serialize(schema, obj, many=False)


def test_ppas_and_their_history_dump_as_marshmallow_dumps_them(world):
    sparse = world.create_ppa(program_code=None, sector=None, funding_source=None, start_date=None,
                              target_end_date=None, wbs_template=None)["id"]
    moved = world.create_ppa(wbs_template="program")["id"]
    world.advance(moved, "budget_review")
    delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer")
    signed = world.create_ppa()["id"]
    world.advance(signed, "technical_review")
    assert world.fire(signed, "approve", world.planning_officer).status_code == 200

    with world.app.app_context():
        ppas = list(db.session.scalars(select(Ppa).where(Ppa.id.in_([sparse, moved, signed]))))
        steps = list(db.session.scalars(select(PpaTransition).order_by(PpaTransition.id)))
        assert any(step.delegated_by is not None for step in steps) and any(s.delegated_by is None for s in steps)
        for schema, rows in ((PpaSchema(), ppas), (HistoryEntrySchema(), steps)):
            dumped = type(schema)(many=True).dump(rows)
            assert dumped == [marshmallows_way(schema, row) for row in rows]
        orphan = ppas[0]
        db.session.expunge(orphan)
        orphan.organization = None  # a dotted path through None reads None, as before
        assert PpaSchema().dump(orphan) == marshmallows_way(PpaSchema(), orphan)
        assert PpaSchema().dump(orphan)["implementing_moa"] is None


class _Holder:
    """A model-like object (attributes, no item access) for the shortcuts' edge cases."""

    def __init__(self, **attributes):
        self.__dict__.update(attributes)


def test_a_path_through_none_above_its_last_step_and_a_method_without_one_dump_as_marshmallow_dumps_them():
    from marshmallow import fields

    from web.schemas import Reply

    class Deep(Reply):
        near = fields.String(attribute="a.b")
        far = fields.String(attribute="a.b.c")
        plain = fields.Integer()
        nothing = fields.Method()  # no method named: marshmallow leaves the key out
        flag = fields.Boolean()

    for obj in (_Holder(a=None, plain=1, flag=True), _Holder(a=_Holder(b=None), plain=2, flag=False),
                _Holder(a=_Holder(b=_Holder(c="x")), plain=3, flag=None)):
        assert Deep().dump(obj) == marshmallows_way(Deep(), obj), vars(obj)
    assert "far" not in Deep().dump(_Holder(a=None, plain=1, flag=True))
    assert "nothing" not in Deep().dump(_Holder(a=None, plain=1, flag=True))


def test_every_user_sees_the_same_page_of_ppas_through_the_prepared_list_as_through_the_query(world):
    """``GET /api/monitoring-entries`` pages ``list_ppas_prepared``: whoever asks, with whatever filters,
    it holds the PPAs ``list_ppas`` holds, in the same order (a shape's statement never carries another
    caller's organization)."""
    from services import users
    from services.ppas import PpaFilters, PreparedList, list_ppas, list_ppas_prepared

    mine = world.create_ppa(fiscal_year=2025, category="moa_ppa")["id"]
    world.create_ppa(fiscal_year=2026, category="oobc_ppa")
    theirs = world.create_ppa(world.other_focal, fiscal_year=2025, category="moa_ppa")["id"]
    world.advance(mine, "budget_review")
    assert world.fire(theirs, "submit", world.other_focal).status_code == 200
    people = (world.admin, world.executive, world.focal, world.other_focal, world.technical_reviewer,
              world.budget_analyst)
    filterings = (PpaFilters(), PpaFilters(fiscal_year=2025), PpaFilters(category="moa_ppa"),
                  PpaFilters(approval_status="budget_review"), PpaFilters(moa="MSSD"),
                  PpaFilters(fiscal_year=2025, category="moa_ppa", moa="MSSD"), PpaFilters(moa="NOWHERE"),
                  PpaFilters(status="planning"), PpaFilters(fiscal_year=1999))

    with world.app.app_context():
        seen_any = set()
        for person in people:
            user = users.get_active_user_or_raise(person.username)
            for filters in filterings:
                expected = [ppa.id for ppa in db.session.scalars(list_ppas(user, filters))]
                prepared = list_ppas_prepared(user, filters)
                assert isinstance(prepared, PreparedList)
                count = db.session.scalar(prepared.count, prepared.params)
                page = [ppa.id for ppa in db.session.scalars(
                    prepared.page, {**prepared.params, "first_item": 0, "page_size": 100})]
                assert (page, count) == (expected, len(expected)), (person.username, filters)
                seen_any.update(page)
        assert {mine, theirs} <= seen_any
