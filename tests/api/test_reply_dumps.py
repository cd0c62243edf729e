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
