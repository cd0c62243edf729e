"""Strategic goals of the Bangsamoro Development Plan, policies, annual
planning cycles, and which PPAs and policies serve which goals
(docs/design.md §16; issue 15 item 4).

A goal's and a policy's ``status`` are names of ``goals.yaml``: the rules
decide them, so the database checks only what never changes (a target year
and a fiscal year are years, a cycle's budget is approved after its
planning starts, a link is made once).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import Organization
from db.models.versioned import Authored, Versioned
from db.types import UTCDateTime, utcnow


class StrategicGoal(Authored, db.Model):
    """A goal of the development plan: what, by when (``target_year``), led
    by which agency, where it stands, and its indicators (a JSON list of
    ``{name, unit, baseline, target}``, the figures as decimal strings)."""

    __tablename__ = "strategic_goals"
    __table_args__ = (CheckConstraint("target_year BETWEEN 2000 AND 2100", name="target_year_a_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    target_year: Mapped[int] = mapped_column(Integer)
    lead_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    status: Mapped[str] = mapped_column(String(30))
    indicators: Mapped[list] = mapped_column(JSON, default=list)

    lead_organization: Mapped[Organization | None] = relationship(lazy="joined")


class Policy(Authored, db.Model):
    """A policy and its implementation milestones (a JSON list of
    ``{title, due_on, done_on}``, ISO dates)."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(30))
    milestones: Mapped[list] = mapped_column(JSON, default=list)


class PlanningCycle(Versioned, db.Model):
    """The annual planning cycle of one fiscal year: when planning starts
    and when the budget is approved."""

    __tablename__ = "planning_cycles"
    __table_args__ = (
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_a_year"),
        CheckConstraint("budget_approved_on IS NULL OR budget_approved_on >= planning_starts_on",
                        name="approval_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, unique=True)
    planning_starts_on: Mapped[date] = mapped_column(Date)
    budget_approved_on: Mapped[date | None] = mapped_column(Date)


class GoalPpa(db.Model):
    """A PPA serves a goal (once)."""

    __tablename__ = "goal_ppas"
    __table_args__ = (UniqueConstraint("goal_id", "ppa_id", name="uq_goal_ppas_goal_ppa"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("strategic_goals.id", ondelete="CASCADE"))
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id", ondelete="CASCADE"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoalPolicy(db.Model):
    """A policy serves a goal (once)."""

    __tablename__ = "goal_policies"
    __table_args__ = (UniqueConstraint("goal_id", "policy_id", name="uq_goal_policies_goal_policy"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("strategic_goals.id", ondelete="CASCADE"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
