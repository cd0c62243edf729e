"""A MOA's focal persons and the quarterly coordination meetings
(docs/design.md §16 "Focal persons and coordination meetings"; issue 15
item 6).

A focal person's ``kind`` is a name of ``goals.yaml``
``coordination.focal_person_kinds``: the rules decide them. The database
keeps what never changes: a MOA has at most one *current* primary focal
person (``uq_focal_persons_current_primary``, a partial unique index over
the appointments not ended), an appointment ends on or after it starts, a
meeting's quarter is 1-4 and its report is due on or before the meeting.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import Organization
from db.models.versioned import Versioned

#: The partial index keeping one current primary focal person per MOA.
CURRENT_PRIMARY = "uq_focal_persons_current_primary"


class FocalPerson(Versioned, db.Model):
    """One appointment of a person as a MOA's focal person: kind, name,
    position, contacts (personal data: never public), the ppaflow user when
    they have one, and the days the appointment starts and ends (``ended_on``
    ``None`` while current)."""

    __tablename__ = "focal_persons"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= appointed_on", name="ended_after_appointed"),
        Index(CURRENT_PRIMARY, "organization_id", unique=True,
              postgresql_where=text("ended_on IS NULL AND kind = 'primary'"),
              sqlite_where=text("ended_on IS NULL AND kind = 'primary'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    appointed_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    organization: Mapped[Organization] = relationship(lazy="joined")


class CoordinationMeeting(Versioned, db.Model):
    """A quarterly coordination meeting of one MOA (or of all MOAs when
    ``organization_id`` is ``None``): fiscal year, quarter, the day it is
    held, the day its pre-meeting report is due, and its agenda."""

    __tablename__ = "coordination_meetings"
    __table_args__ = (
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_a_year"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_1_to_4"),
        CheckConstraint("report_due_on <= held_on", name="report_due_before_meeting"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)
    report_due_on: Mapped[date] = mapped_column(Date)
    agenda: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization | None] = relationship(lazy="joined")
