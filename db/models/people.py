"""Organizations (MOAs and oversight bodies), users, their roles and API tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.types import UTCDateTime, utcnow


class Organization(db.Model):
    """A BARMM ministry, office or agency (MOA), or an oversight body such as
    BPDA or MFBM. PPAs belong to their implementing MOA; users to one
    organization. ``uacs_code`` is its 12-digit UACS organization code
    (department, agency, operating unit), when known."""

    __tablename__ = "organizations"
    __table_args__ = (Index("uq_organizations_uacs_code", "uacs_code", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    uacs_code: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The header block of the COA/DBM statements (FAR No. 1) and who signs
    # them, name and position apart; empty until set (docs/design.md §8).
    department: Mapped[str] = mapped_column(String(200), default="", server_default="")
    agency: Mapped[str] = mapped_column(String(200), default="", server_default="")
    operating_unit: Mapped[str] = mapped_column(String(200), default="", server_default="")
    budget_officer_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    budget_officer_position: Mapped[str] = mapped_column(String(120), default="", server_default="")
    chief_accountant_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    chief_accountant_position: Mapped[str] = mapped_column(String(120), default="", server_default="")
    head_of_agency_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    head_of_agency_position: Mapped[str] = mapped_column(String(120), default="", server_default="")

    #: The header fields, in the order of the statements' header block.
    HEADER_FIELDS = ("department", "agency", "operating_unit", "uacs_code")
    #: The signatories, in the order they sign: certified correct (budget
    #: officer, chief accountant), approved (head of agency).
    SIGNATORIES = ("budget_officer", "chief_accountant", "head_of_agency")

    def signatory(self, role: str) -> tuple[str, str]:
        """``(name, position)`` of signatory ``role`` (one of ``SIGNATORIES``); empty strings when unset."""
        return getattr(self, f"{role}_name"), getattr(self, f"{role}_position")

    @property
    def etag(self) -> str:
        """The entity tag of what the API shows: ``"organization-<id>-<hash of every field shown>"``."""
        content = "\x1f".join((self.code, self.name, self.uacs_code or "", self.department, self.agency,
                               self.operating_unit, *(part for role in self.SIGNATORIES
                                                      for part in self.signatory(role))))
        return f'"organization-{self.id}-{hashlib.sha256(content.encode()).hexdigest()[:16]}"'


class User(UserMixin, db.Model):
    """A person or system using ppaflow, with one or more roles
    (rules/default/roles.yaml) and optionally an organization.

    ``username`` is stored canonical (NFKC, case-folded) and
    ``username_skeleton`` is the SHA-256 of its Unicode TR39 skeleton, unique,
    so no two users have look-alike names (``services.users``).
    ``password_hash`` is an argon2id hash, or ``None`` for a user who signs
    in with API tokens only. ``version`` increases with every change (ETag).
    ``UserMixin`` makes it Flask-Login's user of the web app (its
    ``is_active`` is the column).
    """

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_username_skeleton", "username_skeleton", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    username_skeleton: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    #: Who they vote as (a name of ``stakeholder_types`` in needs.yaml; docs/design.md §14).
    stakeholder_type: Mapped[str | None] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    organization: Mapped[Organization | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="UserRole.role")

    # The services raise ``version`` themselves: a change of roles touches only ``user_roles``.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    @property
    def roles(self) -> frozenset[str]:
        """Every role the user holds."""
        return frozenset(r.role for r in self.role_rows)

    @property
    def etag(self) -> str:
        """The entity tag of this version: ``"user-<id>-v<version>"``."""
        return f'"user-{self.id}-v{self.version}"'

    @property
    def has_password(self) -> bool:
        """True when the user can sign in with a password."""
        return self.password_hash is not None


class UserRole(db.Model):
    """One role held by one user."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class ApiToken(db.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown
    once, when it is issued."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("length(token_hash) = 64", name="hash_length"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
