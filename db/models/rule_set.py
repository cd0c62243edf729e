"""Stored rule sets: every rule set that governs anything, by its hash
(issue 14 item 1, docs/design.md §13)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db import db
from db.types import UTCDateTime, utcnow


class StoredRuleSet(db.Model):
    """One rule set, kept so that the hash on any history row can be read back.

    ``files`` is every rule file of the set: a list of ``{"name": path
    inside the set, "content": the file's text}`` (the loader only accepts
    UTF-8), from which ``rules.load_rule_files`` rebuilds the ``RuleSet``
    with the same ``hash``. ``active`` marks the set the database says is in
    force; a partial unique index lets at most one row be active.
    ``activated_at`` and ``activated_by_id`` are those of the latest
    activation (``None``: never activated, or by an operator without a user).

    Rows are never deleted; only ``active``, ``activated_at`` and
    ``activated_by_id`` change.
    """

    __tablename__ = "rule_sets"
    __table_args__ = (
        CheckConstraint("length(hash) = 64", name="hash_is_sha256"),
        Index("uq_rule_sets_one_active", "active", unique=True,
              postgresql_where=text("active"), sqlite_where=text("active")),
    )

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    files: Mapped[list] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def contents(self) -> dict[str, bytes]:
        """Path inside the set -> the file's bytes (what the loader reads)."""
        return {entry["name"]: entry["content"].encode() for entry in self.files}
