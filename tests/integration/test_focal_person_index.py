"""The database keeps one current primary focal person per MOA (issue 15
item 6, docs/design.md §16 "Focal persons and coordination meetings"): the
partial unique index ``uq_focal_persons_current_primary``, on each backend,
is the last word when two appointments race past the service's check."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from db import db
from db.models import FocalPerson
from services import users


def test_the_database_itself_keeps_one_current_primary_per_moa_and_lets_ended_ones_be(world):
    """On each backend: the partial unique index, not the service, is the last word (a race)."""
    world.focal  # noqa: B018 - MSSD exists
    with world.app.app_context():
        mssd = users.get_organization("MSSD").id

        def primary(name: str, ended_on: date | None = None) -> FocalPerson:
            return FocalPerson(organization_id=mssd, kind="primary", name=name, position="", email="", phone="",
                               appointed_on=date(2025, 1, 6), ended_on=ended_on)

        db.session.add_all([primary("Ended", date(2025, 3, 31)), primary("Current"),
                            FocalPerson(organization_id=mssd, kind="alternate", name="Alternate", position="",
                                        email="", phone="", appointed_on=date(2025, 1, 6))])
        db.session.commit()
        db.session.add(primary("Racing insert"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
