"""Delegations of roles, and the append-only history of every workflow
other than the PPA approval (docs/design.md §6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import Organization, User
from db.types import UTCDateTime, utcnow


class Delegation(db.Model):
    """A role one user lends another from ``starts_at`` until ``expires_at``
    (a reviewer on leave, an officer-in-charge), for a ``reason``. While it
    is active (started, not expired, not revoked) the delegate may sign
    workflow steps in that role; every such step records the delegator
    (issue 14 item 7, issue 12 item 3). ``organization_id`` is the
    delegator's organization when the role is organization-scoped (the
    delegate must belong to it), else ``None``.

    Rows are never deleted; revoking sets ``revoked_at`` and ``revoked_by_id``
    (audited like every change).
    """

    __tablename__ = "delegations"
    __table_args__ = (
        CheckConstraint("expires_at > starts_at", name="ends_after_start"),
        CheckConstraint("delegator_id <> delegate_id", name="not_to_oneself"),
        Index("ix_delegations_delegate_role", "delegate_id", "role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    delegator: Mapped[User] = relationship(foreign_keys=[delegator_id], lazy="joined")
    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id], lazy="joined")
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id], lazy="joined")
    organization: Mapped[Organization | None] = relationship(lazy="joined")

    def state_at(self, moment: datetime) -> str:
        """``active``, ``scheduled`` (not started), ``expired`` or ``revoked`` at ``moment``."""
        if self.revoked_at is not None and self.revoked_at <= moment:
            return "revoked"
        if moment < self.starts_at:
            return "scheduled"
        if moment >= self.expires_at:
            return "expired"
        return "active"

    @property
    def etag(self) -> str:
        """The entity tag: ``"delegation-<id>-<revoked or live>"`` (only revoking changes a delegation)."""
        return f'"delegation-{self.id}-{"revoked" if self.revoked_at else "live"}"'


class WorkflowTransition(db.Model):
    """One step of a record through a workflow of the rules (budget
    proposals, ORS, DV, community needs; PPAs keep ``ppa_transitions``):
    which record, who signed, in which role, for whom, what, when, under
    which rules. Append-only: the database refuses updates and deletes
    (triggers created by the migrations), and the application's database
    role may only read and append (``db.migrate.APPEND_ONLY_TABLES``)."""

    __tablename__ = "workflow_transitions"
    __table_args__ = (Index("ix_workflow_transitions_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow: Mapped[str] = mapped_column(String(63))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(63))
    from_stage: Mapped[str] = mapped_column(String(63))
    to_stage: Mapped[str] = mapped_column(String(63))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(40))
    delegated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id"))
    #: In an n-of-m sign-off stage: the agency or role this sign-off was signed for (docs/design.md §6).
    signed_for: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rules_hash: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id], lazy="joined")
    delegated_by: Mapped[User | None] = relationship(foreign_keys=[delegated_by_id], lazy="joined")
