"""Organizations, users, their passwords and API tokens (docs/design.md §3,
§5; issue 10).

Usernames are stored and looked up canonical: Unicode NFKC_Casefold (NFKC
normalisation and case folding, default-ignorable characters dropped), so
``Admin``, ``ＡＤＭＩＮ`` and ``admin`` are one name. A name whose Unicode
TR39 skeleton equals an existing name's (``adrnin`` for ``admin``, a
Cyrillic ``а`` for a Latin ``a``) is refused; the database keeps the
skeleton's SHA-256 under a unique index, so two look-alikes cannot slip in
at the same moment either.

The rules of both are in ``workflow/names.py`` (NFKC with case folding,
and the Unicode TR39 skeleton over the Unicode Consortium's confusables
data).

Passwords are hashed with argon2id (argon2-cffi, RFC 9106's parameters); a
hash made with older parameters is replaced at the next successful check.

Tokens are random (256 bits), shown once, and stored only as their SHA-256
(a fast hash is right for secrets with this much entropy: nothing to brute
force). Authentication looks the hash up, checks expiry and revocation.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.orm import joinedload

from db import db
from db.models import ApiToken, Organization, User, UserRole
from db.types import utcnow
from services.access import is_superuser
from services.concurrency import check_if_match
from services.runtime import active_hash_column, get_runtime, may_note_active_hash, note_active_hash
from services.unit_of_work import transaction
from workflow.errors import Conflict, Forbidden, NotFound, RoleMissing, Unauthenticated, ValidationFailed
from workflow.names import canonical_username, skeleton_key
from workflow.text import text_problem

log = logging.getLogger("ppaflow.services")

TOKEN_PREFIX = "ppa_"
PREFIX_LENGTH = 12  # characters of a token kept in clear, to tell tokens apart

ORGANIZATION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")
"""An organization code: ``MSSD``, ``MBHTE-TESD``."""
UACS_ORGANIZATION_CODE = re.compile(r"[0-9]{12}")
"""A UACS organization code: 2 digits of department, 3 of agency, 7 of
operating unit (DBM-COA Joint Circular No. 2013-1)."""

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""Passwords are 12 to 1,024 characters (NIST SP 800-63B §5.1.1: at least 8;
no composition rules; long passphrases welcome)."""

INVALID_TOKEN = "invalid API token: unknown, revoked or expired, or its user is deactivated"
"""The one 401 detail for every token that does not authenticate (issue 10):
the reason goes to the log, never to the client."""

_PASSWORDS = PasswordHasher()


# -- names -------------------------------------------------------------------------------------------------

def username_skeleton(name: str) -> str:
    """SHA-256 (hex) of the Unicode TR39 skeleton of ``name``: two names with
    the same value look alike (``admin``, ``adrnin``, Cyrillic ``аdmin``)."""
    return skeleton_key(name)


def _username_errors(name: str) -> list[str]:
    if not name or len(name) > 80 or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
        return ["use 1-80 letters, digits, '.', '-' or '_'"]
    return []


# -- organizations -----------------------------------------------------------------------------------------

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


def add_organization(actor: User, code: str, name: str, *, uacs_code: str | None = None) -> Organization:
    """Register a MOA or oversight body (administrators only).

    Args:
        code: its short code, e.g. ``MSSD`` (1-20 letters, digits, '.', '_', '-').
        name: its official name.
        uacs_code: its 12-digit UACS organization code, if known.

    Raises:
        Forbidden: ``actor`` is not an administrator.
        ValidationFailed: a malformed code, name or UACS code.
        Conflict: ``organization_exists``: the code (in any case) or the UACS
            code is taken.
    """
    require_administrator(actor)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not ORGANIZATION_CODE.fullmatch(code or ""):
        errors["code"] = ["use 1-20 letters, digits, '.', '_' or '-', starting with a letter or digit"]
    if not 1 <= len(name) <= 200:
        errors["name"] = ["give the organization's name (1-200 characters)"]
    if uacs_code is not None and not UACS_ORGANIZATION_CODE.fullmatch(uacs_code):
        errors["uacs_code"] = ["a UACS organization code is 12 digits"]
    if errors:
        raise ValidationFailed(errors)
    with transaction() as session:
        same = [func.upper(Organization.code) == code.upper()]
        if uacs_code:
            same.append(Organization.uacs_code == uacs_code)
        taken = session.scalar(select(Organization).where(or_(*same)).limit(1))
        if taken is not None:
            what = f"code {taken.code!r}" if taken.code.upper() == code.upper() else f"UACS code {uacs_code}"
            raise Conflict(f"organization {taken.code} already has the {what}", code="organization_exists")
        organization = Organization(code=code, name=name, uacs_code=uacs_code)
        session.add(organization)
    log.info("organization %s added by %s", code, actor.username)
    return organization


#: Header fields of an organization (``update_organization``) and their longest length.
HEADER_LENGTHS = {"department": 200, "agency": 200, "operating_unit": 200}
#: Longest name and position of a signatory.
SIGNATORY_LENGTH = 120


def parse_signatory(text: str) -> tuple[str, str]:
    """``"NAME, POSITION"`` as ``(name, position)``, split at the first comma
    and stripped (``"JUANA CRUZ, Budget Officer IV"``); a text without a
    comma is a name without position (refused by ``update_organization``).
    An empty text is ``("", "")``: the signatory is cleared."""
    name, _, position = (text or "").partition(",")
    return name.strip(), position.strip()


def _text_errors(value: str, length: int) -> list[str]:
    if len(value) > length:
        return [f"at most {length} characters"]
    problem = text_problem(value)
    return [problem] if problem else []


def update_organization(actor: User, organization_id: int, changes: Mapping[str, Any], *,
                        if_match: str | None = None) -> Organization:
    """Set an organization's FAR No. 1 header block and signatories
    (administrators only; docs/design.md §8 "Who signs the statements"); one
    transaction, audited (entity ``organization``).

    Args:
        changes: any of ``name``; ``department``, ``agency``,
            ``operating_unit`` (text, at most 200 characters, ``""`` clears);
            ``uacs_code`` (12 digits, or ``None``/``""`` to clear); and for
            each of ``budget_officer``, ``chief_accountant``,
            ``head_of_agency`` a mapping ``{"name": ..., "position": ...}``
            (both given, at most 120 characters each, or both empty to clear).
        if_match: the ``If-Match`` header, checked against the organization's ETag.

    Raises:
        Forbidden: ``actor`` is not an administrator.
        NotFound: no such organization.
        PreconditionFailed: ``if_match`` is stale.
        ValidationFailed: per field (``uacs_code``, ``budget_officer.position``, ...).
        Conflict: ``organization_exists``: another organization has the UACS code.
    """
    require_administrator(actor)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not 1 <= len(name) <= 200:
            errors["name"] = ["give the organization's name (1-200 characters)"]
        elif problem := text_problem(name):
            errors["name"] = [problem]
        values["name"] = name
    for field, length in HEADER_LENGTHS.items():
        if field in changes:
            values[field] = (changes[field] or "").strip()
            if messages := _text_errors(values[field], length):
                errors[field] = messages
    if "uacs_code" in changes:
        code = (changes["uacs_code"] or "").strip() or None
        if code is not None and not UACS_ORGANIZATION_CODE.fullmatch(code):
            errors["uacs_code"] = ["a UACS organization code is 12 digits (department 2, agency 3, operating unit 7)"]
        values["uacs_code"] = code
    for role in Organization.SIGNATORIES:
        if changes.get(role) is None:
            continue
        name, position = ((changes[role].get("name") or "").strip(), (changes[role].get("position") or "").strip())
        for part, value in (("name", name), ("position", position)):
            if messages := _text_errors(value, SIGNATORY_LENGTH):
                errors[f"{role}.{part}"] = messages
        if bool(name) != bool(position):
            missing = "position" if name else "name"
            errors.setdefault(f"{role}.{missing}", []).append(
                'give both the name and the position ("NAME, POSITION"), or neither to clear')
        values[f"{role}_name"], values[f"{role}_position"] = name, position
    if errors:
        raise ValidationFailed(errors)
    with transaction() as session:
        organization = session.scalar(select(Organization).where(Organization.id == organization_id)
                                      .with_for_update().execution_options(populate_existing=True))
        if organization is None:
            raise NotFound(f"organization {organization_id} not found")
        check_if_match(if_match, organization.etag)
        if values.get("uacs_code") and values["uacs_code"] != organization.uacs_code:
            taken = session.scalar(select(Organization).where(Organization.uacs_code == values["uacs_code"],
                                                              Organization.id != organization.id))
            if taken is not None:
                raise Conflict(f"organization {taken.code} already has the UACS code {values['uacs_code']}",
                               code="organization_exists")
        for field, value in values.items():
            setattr(organization, field, value)
    log.info("organization %s changed by %s: %s", organization.code, actor.username, ", ".join(sorted(changes)))
    return organization


#: Roles that may read an organization's header block and signatories
#: besides administrators: MFBM's budget analysts (they file the reports).
ORGANIZATION_READERS = frozenset({"budget_analyst"})


def read_organization(actor: User, organization_id: int) -> Organization:
    """One organization (administrators and MFBM budget analysts).

    Raises:
        Forbidden: ``actor`` is neither.
        NotFound: no such organization.
    """
    if not actor.roles & ORGANIZATION_READERS:
        require_administrator(actor)
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(f"organization {organization_id} not found")
    return organization


def get_organization_id_or_raise(code: str) -> int:
    """The id of organization ``code``.

    Raises:
        NotFound: no such organization.
    """
    organization = get_organization(code)
    if organization is None:
        raise NotFound(f"no organization {code!r}")
    return organization.id


def list_organizations(actor: User) -> Select:
    """Every organization, by code (administrators only).

    Raises:
        Forbidden: ``actor`` is not an administrator.
    """
    require_administrator(actor)
    return select(Organization).order_by(Organization.code)


# -- users -------------------------------------------------------------------------------------------------

def require_administrator(actor: User) -> None:
    """Allow managing users and organizations to superusers only
    (``superuser`` in roles.yaml; the command line acts as one).

    Raises:
        Forbidden: ``actor`` is not one.
    """
    if not is_superuser(actor):
        raise RoleMissing("managing users and organizations needs the role admin")


def get_user(username: str) -> User | None:
    """The user called ``username`` (compared canonically: ``Admin`` is
    ``admin``), or ``None``; with their organization and roles, in one
    statement (as the token lookup loads them: ``token_user``)."""
    return db.session.execute(_user_query(), {"username": canonical_username(username)}).unique().scalar()


@functools.cache
def _user_query() -> Select:
    """``get_user``'s statement (built once): the user ``:username`` with
    their roles joined, not read by a statement of their own afterwards."""
    return select(User).where(User.username == bindparam("username")).options(joinedload(User.role_rows))


def get_user_or_raise(username: str) -> User:
    """The user called ``username``.

    Raises:
        NotFound: no such user.
    """
    user = get_user(username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def get_active_user_or_raise(username: str) -> User:
    """The user called ``username``, who must be active (to act as them on
    the command line).

    Raises:
        NotFound: no such user.
        Forbidden: ``user_deactivated``: the user is deactivated.
    """
    user = get_user_or_raise(username)
    if not user.is_active:
        raise Forbidden(f"user {user.username!r} is deactivated and cannot act; "
                        f"'ppaflow user set {user.username} --active' reactivates them", code="user_deactivated")
    return user


def get_or_raise(actor: User, model: type[Organization] | type[User], row_id: int) -> Organization | User:
    """One organization or user by id (administrators only).

    Raises:
        Forbidden: ``actor`` is not an administrator.
        NotFound: no such row.
    """
    require_administrator(actor)
    row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(f"{model.__name__.lower()} {row_id} not found")
    return row


def _role_errors(roles: list[str], organization: Organization | None) -> list[str]:
    """What is wrong with giving ``roles`` to a user of ``organization``."""
    known = get_runtime().rules.roles
    if not roles:
        return ["at least one role is required"]
    unknown = [r for r in roles if r not in known]
    if unknown:
        return [f"unknown role(s) {', '.join(unknown)}; known: {', '.join(known)}"]
    scoped = sorted(set(roles) & set(known.organization_scoped_roles))
    if scoped and organization is None:
        return [f"{', '.join(scoped)} acts for one organization: give the user an organization"]
    return []


def add_user(username: str, roles: Iterable[str], *, organization: str | None = None, full_name: str = "",
             email: str | None = None, password: str | None = None, active: bool = True,
             with_token: bool = True) -> tuple[User, str | None]:
    """Create a user and, unless ``with_token`` is false, a first API token.

    Args:
        username: unique login name; stored canonical (``canonical_username``).
        roles: role names of the rule set's roles.yaml (at least one); an
            organization-scoped role (``moa_focal``) needs ``organization``.
        organization: code of the user's organization, if any.
        password: an initial password (``check_password``), or ``None``.

    Returns:
        ``(user, token)``; the token is not stored and cannot be shown again
        (``None`` without ``with_token``).

    Raises:
        ValidationFailed: unknown role or organization, no role, a
            ``moa_focal`` without organization, a bad name or password.
        Conflict: ``user_exists`` (the name is taken) or
            ``username_confusable`` (it looks like an existing name).
    """
    roles = sorted(set(roles))
    canonical = canonical_username(username or "")
    errors: dict[str, list[str]] = {}
    if messages := _username_errors(canonical):
        errors["username"] = messages
    if password is not None and (messages := password_errors(password, canonical)):
        errors["password"] = messages
    with transaction() as session:
        org = None
        if organization:
            org = get_organization(organization)
            if org is None:
                errors["organization"] = [f"unknown organization {organization!r}"]
        if "organization" not in errors and (messages := _role_errors(roles, org)):
            errors["roles"] = messages
        if errors:
            raise ValidationFailed(errors)
        skeleton = username_skeleton(canonical)
        existing = session.scalar(select(User).where(or_(User.username == canonical,
                                                         User.username_skeleton == skeleton)))
        if existing is not None and existing.username == canonical:
            raise Conflict(f"user {canonical!r} already exists", code="user_exists")
        if existing is not None:
            raise Conflict(f"{canonical!r} looks like the existing user {existing.username!r}; choose a name that "
                           "cannot be mistaken for it", code="username_confusable")
        user = User(username=canonical, username_skeleton=skeleton, full_name=full_name or canonical, email=email,
                    organization_id=org.id if org else None, is_active=active,
                    password_hash=_PASSWORDS.hash(_normalized(password)) if password is not None else None,
                    role_rows=[UserRole(role=r) for r in roles])
        session.add(user)
        session.flush()
        token = _new_token(session, user, name="initial") if with_token else None
    return user, token


def create_user(actor: User, fields: Mapping[str, Any]) -> User:
    """``add_user`` for an administrator, without a token (``POST /api/users``).

    Args:
        fields: ``username``, ``roles`` and optionally ``organization``,
            ``full_name``, ``email``, ``password``, ``active``.

    Raises:
        Forbidden: ``actor`` is not an administrator.
        ValidationFailed, Conflict: as ``add_user``.
    """
    require_administrator(actor)
    user, _ = add_user(fields["username"], fields["roles"], organization=fields.get("organization"),
                       full_name=fields.get("full_name") or "", email=fields.get("email"),
                       password=fields.get("password"), active=fields.get("active", True), with_token=False)
    log.info("user %s added by %s", user.username, actor.username)
    return user


@dataclass(frozen=True)
class UserFilters:
    """Filters of ``GET /api/users`` and ``ppaflow user list`` (all optional)."""

    role: str | None = None
    organization: str | None = None
    active: bool | None = None
    q: str | None = None


def list_users(actor: User, filters: UserFilters = UserFilters()) -> Select:
    """Users by name, filtered: holding ``role``, of ``organization``
    (code), active or not, ``q`` in the username or full name (literally:
    ``%`` and ``_`` are no wildcards). Administrators only.

    Raises:
        Forbidden: ``actor`` is not an administrator.
    """
    require_administrator(actor)
    query = select(User).order_by(User.username)
    if filters.role:
        query = query.where(User.role_rows.any(UserRole.role == filters.role))
    if filters.organization:
        query = query.join(Organization, User.organization_id == Organization.id).where(
            Organization.code == filters.organization)
    if filters.active is not None:
        query = query.where(User.is_active.is_(filters.active))
    if filters.q:
        query = query.where(or_(User.username.contains(canonical_username(filters.q), autoescape=True),
                                User.full_name.contains(filters.q, autoescape=True)))
    return query


UNSET: Any = object()


def update_user(actor: User, user_id: int, changes: Mapping[str, Any], *, if_match: str | None = None) -> User:
    """Change a user's roles, organization, activity, name, e-mail or
    password (administrators only); one transaction.

    Args:
        changes: any of ``roles`` (replacing all), ``organization`` (a code,
            or ``None`` for none), ``active``, ``full_name``, ``email``,
            ``password``.
        if_match: the ``If-Match`` header, checked against the user's ETag.

    Raises:
        Forbidden: ``actor`` is not an administrator.
        NotFound: no such user.
        PreconditionFailed: ``if_match`` is stale.
        ValidationFailed: unknown role or organization, an organization-scoped
            role without organization, a bad password.
        Conflict: ``last_administrator``: no active administrator would be left.
    """
    require_administrator(actor)
    with transaction() as session:
        user = session.scalar(select(User).where(User.id == user_id).with_for_update(of=User)
                              .execution_options(populate_existing=True))
        if user is None:
            raise NotFound(f"user {user_id} not found")
        check_if_match(if_match, user.etag)
        was_administrator = user.is_active and is_superuser(user)
        errors: dict[str, list[str]] = {}
        organization = user.organization
        if changes.get("organization", UNSET) is not UNSET:
            code = changes["organization"]
            organization = get_organization(code) if code else None
            if code and organization is None:
                errors["organization"] = [f"unknown organization {code!r}"]
        roles = sorted(set(changes["roles"])) if changes.get("roles") is not None else sorted(user.roles)
        if "organization" not in errors and (messages := _role_errors(roles, organization)):
            errors["roles" if "roles" in changes else "organization"] = messages
        if changes.get("password") is not None and (messages := password_errors(changes["password"], user.username)):
            errors["password"] = messages
        if errors:
            raise ValidationFailed(errors)
        user.organization_id = organization.id if organization else None
        user.organization = organization
        user.role_rows = [row for row in user.role_rows if row.role in roles] + [
            UserRole(role=r) for r in roles if r not in user.roles]
        for field, attribute in (("active", "is_active"), ("full_name", "full_name"), ("email", "email")):
            if field in changes:
                setattr(user, attribute, changes[field])
        if changes.get("password") is not None:
            user.password_hash = _PASSWORDS.hash(_normalized(changes["password"]))
        user.version += 1
        session.flush()
        if was_administrator and not (user.is_active and is_superuser(user)):
            _require_an_administrator(session)
    log.info("user %s changed by %s: %s", user.username, actor.username, ", ".join(sorted(changes)))
    return user


def _require_an_administrator(session) -> None:
    """Refuse a change that leaves no active administrator where there was
    one (nobody could manage users over the API any more)."""
    superusers = get_runtime().rules.roles.superuser_roles
    left = session.scalar(select(func.count()).select_from(User).where(
        User.is_active.is_(True), User.role_rows.any(UserRole.role.in_(superusers))))
    if not left:
        raise Conflict("this would leave no active administrator", code="last_administrator")


# -- passwords ---------------------------------------------------------------------------------------------

def _normalized(password: str) -> str:
    """Passwords are compared in NFKC (NIST SP 800-63B §5.1.1.2), so the same
    characters typed on different keyboards match."""
    return unicodedata.normalize("NFKC", password)


def password_errors(password: str, username: str = "") -> list[str]:
    """What is wrong with ``password`` (empty when nothing): 12 to 1,024
    characters, not only blanks, not the username."""
    text = _normalized(password)
    if not MIN_PASSWORD_LENGTH <= len(text) <= MAX_PASSWORD_LENGTH:
        return [f"use {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters; a few unrelated words make a good "
                "password"]
    if not text.strip():
        return ["a password cannot be only blanks"]
    if username and canonical_username(text) == canonical_username(username):
        return ["a password cannot be the username"]
    return []


def set_password(username: str, password: str) -> User:
    """Set (or replace) a user's password.

    Raises:
        NotFound: no such user.
        ValidationFailed: ``password_errors``.
    """
    with transaction():
        user = get_user_or_raise(username)
        if messages := password_errors(password, user.username):
            raise ValidationFailed({"password": messages})
        user.password_hash = _PASSWORDS.hash(_normalized(password))
        user.version += 1
    return user


@functools.cache
def _decoy_hash() -> str:
    """A hash no password matches, checked when there is no real one so that
    an unknown user takes as long as a wrong password."""
    return _PASSWORDS.hash(secrets.token_urlsafe(32))


def verify_password(user: User | None, password: str) -> bool:
    """True when ``password`` is ``user``'s and the user is active (for the
    web sign-in).

    Takes the same time whether the user is unknown (``None``), has no
    password, is deactivated or gave a wrong one: an argon2 verification runs
    in every case, and its comparison is constant-time. A hash made with
    other parameters than argon2-cffi's current ones is replaced by a new
    hash of the same password.
    """
    stored = user.password_hash if user is not None else None
    try:
        _PASSWORDS.verify(stored or _decoy_hash(), _normalized(password))
    except (VerificationError, InvalidHashError):
        return False
    if stored is None or not user.is_active:
        return False
    if _PASSWORDS.check_needs_rehash(stored):
        try:
            with transaction():
                user.password_hash = _PASSWORDS.hash(_normalized(password))
        except Conflict:  # changed meanwhile: the next sign-in rehashes
            log.info("password of %s not rehashed: the user changed meanwhile", user.username)
    return True


# -- tokens ------------------------------------------------------------------------------------------------

def hash_token(token: str) -> str:
    """SHA-256 hex digest of a bearer token (what the database keeps)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


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


def token_user(token: str, *, now: datetime | None = None) -> tuple[User | None, str | None]:
    """Who a bearer token authenticates, and if nobody, why.

    Returns:
        ``(user, None)`` for a live token of an active user, else
        ``(None, reason)`` with reason ``unknown``, ``revoked``, ``expired``
        or ``deactivated``.
    """
    now = now or utcnow()
    # One statement: token, user, organization and roles together, and in a request the active rule
    # set's hash, which the request would otherwise read by a statement of its own (services.runtime).
    with_hash = may_note_active_hash()
    found = db.session.execute(_token_query(with_hash), {"token_hash": hash_token(token)}).unique().first()
    if found is None:
        return None, "unknown"
    row = found[0]
    if with_hash:
        note_active_hash(found[1])
    if row.revoked_at is not None:
        return None, "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return None, "expired"
    if not row.user.is_active:
        return None, "deactivated"
    return row.user, None


@functools.cache
def _token_query(with_active_hash: bool) -> Select:
    """The token lookup of ``token_user`` (built once: every request runs it),
    with the active rule set's hash as a second column when asked."""
    query = (select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))
             .options(joinedload(ApiToken.user).joinedload(User.role_rows)))
    if with_active_hash:
        query = query.add_columns(active_hash_column())
    return query


def authenticate(token: str, *, now: datetime | None = None) -> User:
    """The active user a bearer token belongs to.

    Raises:
        Unauthenticated: unknown, expired or revoked token, or deactivated
            user; the detail is the same for all (``INVALID_TOKEN``), the
            reason is logged with the token's prefix when the token is known.
    """
    user, reason = token_user(token, now=now)
    if user is None:
        log.info("authentication refused: %s token%s", reason,
                 "" if reason == "unknown" else f" {token[:PREFIX_LENGTH]}...")
        raise Unauthenticated(INVALID_TOKEN)
    return user


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
