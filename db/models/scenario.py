"""Budget scenarios: what-if allocations per PPA under a ceiling
(docs/design.md §17; issue 16 items 1-2)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.ppa import Ppa
from db.models.versioned import Authored
from db.types import Money


class Scenario(Authored, db.Model):
    """A named what-if budget: a ceiling (PHP), whether it is the baseline
    (a copy of a fiscal year's enacted appropriations, ``fiscal_year``), who
    made it. Its allocations are ``ScenarioAllocation`` rows."""

    __tablename__ = "scenarios"
    __table_args__ = (CheckConstraint("ceiling >= 0", name="ceiling_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    ceiling: Mapped[Decimal] = mapped_column(Money)
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    fiscal_year: Mapped[int | None] = mapped_column(Integer)


class ScenarioAllocation(db.Model):
    """A scenario's amount (PHP) for one PPA, with why."""

    __tablename__ = "scenario_allocations"
    __table_args__ = (
        UniqueConstraint("scenario_id", "ppa_id", name="uq_scenario_allocations_scenario_ppa"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"))
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    justification: Mapped[str] = mapped_column(Text, default="")

    ppa: Mapped[Ppa] = relationship(lazy="joined")
