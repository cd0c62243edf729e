"""Organizations, users and API tokens.

Tokens are random (256 bits), shown once, and stored only as their SHA-256
(a fast hash is right for secrets with this much entropy: nothing to brute
force). Authentication looks the hash up, checks expiry and revocation.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from db import db
from db.models import ApiToken, Organization, User, UserRole
from db.types import utcnow
from services.runtime import get_runtime
from services.unit_of_work import transaction
from workflow.errors import Conflict, NotFound, Unauthenticated, ValidationFailed

TOKEN_PREFIX = "ppa_"
PREFIX_LENGTH = 12  # characters of a token kept in clear, to tell tokens apart


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a bearer token (what the database keeps)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def get_organization(code: str) -> Organization | None:
    """The organization with ``code`` (e.g. ``MSSD``), or ``None``."""
    return db.session.scalar(select(Organization).where(Organization.code == code))


def get_organization_or_raise(code: str, *, field: str = "organization") -> Organization:
    """The organization with ``code``.

    Raises:
        ValidationFailed: no such organization (reported on ``field``).
    """
    organization = get_organization(code)
    if organization is None:
        raise ValidationFailed({field: [f"unknown organization {code!r}"]})
    return organization


def ensure_organization(code: str, name: str) -> Organization:
    """Create the organization ``code`` unless it exists; return it."""
    with transaction() as session:
        organization = get_organization(code)
        if organization is None:
            organization = Organization(code=code, name=name)
            session.add(organization)
    return organization


def get_user(username: str) -> User | None:
    """The user called ``username``, or ``None``."""
    return db.session.scalar(select(User).where(User.username == username))


def get_user_or_raise(username: str) -> User:
    """The user called ``username``.

    Raises:
        NotFound: no such user.
    """
    user = get_user(username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def add_user(username: str, roles: Iterable[str], *, organization: str | None = None,
             full_name: str = "", email: str | None = None) -> tuple[User, str]:
    """Create a user and issue a first API token.

    Args:
        username: unique login name.
        roles: role names from rules/approval.yaml (at least one).
        organization: code of the user's organization, if any.

    Returns:
        ``(user, token)``; the token is not stored and cannot be shown again.

    Raises:
        ValidationFailed: unknown role or organization, no role, bad name.
        Conflict: the username is taken.
    """
    roles = sorted(set(roles))
    known = get_runtime().rules.approval.roles
    errors: dict[str, list[str]] = {}
    if not roles:
        errors["roles"] = ["at least one role is required"]
    unknown = [r for r in roles if r not in known]
    if unknown:
        errors["roles"] = [f"unknown role(s) {', '.join(unknown)}; known: {', '.join(known)}"]
    if not username or len(username) > 80 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        errors["username"] = ["use 1-80 letters, digits, '.', '-' or '_'"]
    if errors:
        raise ValidationFailed(errors)
    with transaction() as session:
        if get_user(username) is not None:
            raise Conflict(f"user {username!r} already exists", code="user_exists")
        org = get_organization_or_raise(organization) if organization else None
        user = User(username=username, full_name=full_name or username, email=email,
                    organization_id=org.id if org else None,
                    role_rows=[UserRole(role=r) for r in roles])
        session.add(user)
        session.flush()
        token = _new_token(session, user, name="initial")
    return user, token


def issue_token(username: str, *, name: str = "", expires_in: timedelta | None = None) -> str:
    """Issue a new API token for ``username`` (``rotate_token`` replaces one).

    Args:
        name: a label for the token (e.g. the client it is for).
        expires_in: lifetime; ``None`` means it does not expire.

    Returns:
        The token (shown once).

    Raises:
        NotFound: no such user.
    """
    with transaction() as session:
        token = _new_token(session, get_user_or_raise(username), name=name, expires_in=expires_in)
    return token


def rotate_token(username: str, *, label: str | None = None, expires_in: timedelta | None = None) -> str:
    """Revoke a user's live tokens, all or those labelled ``label``, and
    issue one replacement (labelled ``label``, else ``rotated``) in the same
    transaction.

    Returns:
        The new token (shown once).

    Raises:
        NotFound: no such user.
    """
    with transaction() as session:
        revoke_tokens(username, label=label)
        return _new_token(session, get_user_or_raise(username), name=label or "rotated", expires_in=expires_in)


def _new_token(session, user: User, *, name: str, expires_in: timedelta | None = None) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(
        user_id=user.id, token_hash=hash_token(token), prefix=token[:PREFIX_LENGTH], name=name,
        expires_at=utcnow() + expires_in if expires_in else None,
    ))
    return token


def authenticate(token: str, *, now: datetime | None = None) -> User:
    """The active user a bearer token belongs to.

    Raises:
        Unauthenticated: unknown, expired or revoked token, or inactive user.
    """
    now = now or utcnow()
    # One statement: token, user, organization and roles together.
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
        .options(joinedload(ApiToken.user).joinedload(User.role_rows))
    ).unique().scalar_one_or_none()
    if row is None:
        raise Unauthenticated("unknown API token")
    if row.revoked_at is not None:
        raise Unauthenticated("this API token has been revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("this API token has expired")
    if not row.user.is_active:
        raise Unauthenticated("this user is deactivated")
    return row.user


def tokens_of(username: str) -> list[ApiToken]:
    """Every token of a user, newest first (hashes only).

    Raises:
        NotFound: no such user.
    """
    user = get_user_or_raise(username)
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_tokens(username: str, *, prefix: str | None = None, label: str | None = None) -> int:
    """Revoke a user's live tokens: all, the one whose ``prefix`` (the first
    12 characters, as ``tokens_of`` shows them) is given, or those labelled
    ``label``.

    Returns:
        How many were revoked.

    Raises:
        NotFound: no such user.
        ValidationFailed: ``prefix`` is not a whole 12-character prefix.
    """
    if prefix is not None and not (len(prefix) == PREFIX_LENGTH and prefix.startswith(TOKEN_PREFIX)):
        raise ValidationFailed({"prefix": [f"give the {PREFIX_LENGTH} characters shown by 'ppaflow token list', "
                                           f"e.g. {TOKEN_PREFIX}Ab3dE6gH"]})
    with transaction() as session:
        user = get_user_or_raise(username)
        query = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        if prefix is not None:
            query = query.where(ApiToken.prefix == prefix)
        if label is not None:
            query = query.where(ApiToken.name == label)
        return session.execute(query.values(revoked_at=utcnow())).rowcount
