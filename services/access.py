"""Who may see and change what (docs/design.md §3, §5).

A user holding only organization-scoped roles (``moa_focal`` by default,
``organization_scoped`` in the rule set's roles.yaml) sees and edits only their
own organization's PPAs; to them every other PPA does not exist (404, never
403). A user holding any other role (reviewers, executives, admins) sees all.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from sqlalchemy import BindParameter, ColumnElement, false, true

from db.models import Ppa, User
from services.runtime import get_runtime
from workflow.errors import Forbidden


def roles_in(user: User, organization_id: int | None) -> frozenset[str]:
    """The roles of ``user`` that count on a record of ``organization_id``:
    all of them in the user's own organization; elsewhere (and where the
    record has no organization) all but the organization-scoped ones
    (``organization_scoped`` in roles.yaml). A ``moa_focal``
    who is also a reviewer reviews every MOA's PPAs but submits, edits and
    spends only for their own (docs/design.md §3, issue 10).
    """
    if organization_id is not None and user.organization_id == organization_id:
        return user.roles
    return user.roles - set(get_runtime().rules.roles.organization_scoped_roles)


def sees_all_organizations(user: User) -> bool:
    """True when ``user`` holds a role that is not organization-scoped."""
    scoped = set(get_runtime().rules.roles.organization_scoped_roles)
    return bool(user.roles - scoped)


def is_superuser(user: User) -> bool:
    """True when ``user`` holds a superuser role (``admin``)."""
    return bool(user.roles & set(get_runtime().rules.roles.superuser_roles))


class Reach(enum.Enum):
    """Whose rows a user may see when it is not one organization's
    (``visible_organizations_of``); never equal to an organization id."""

    #: every organization's (a role that is not organization-scoped)
    ALL = "all"
    #: none (organization-scoped roles only, and no organization)
    NONE = "none"


def visible_organizations_of(user: User) -> Reach | int:
    """Whose rows ``user`` may see: ``Reach.ALL``, ``Reach.NONE``, or the id
    of their own organization (docs/design.md §3)."""
    if sees_all_organizations(user):
        return Reach.ALL
    if user.organization_id is None:
        return Reach.NONE
    return user.organization_id


def visible_rows(user: User, organization_column) -> ColumnElement[bool]:
    """A WHERE clause selecting the rows ``user`` may see, by the column
    holding each row's organization id (PPAs, alerts, audit rows, ...)."""
    return visible_clause(visible_organizations_of(user), organization_column)


def visible_clause(seen: Reach | int | BindParameter, organization_column) -> ColumnElement[bool]:
    """A WHERE clause selecting the rows of ``seen`` (as
    ``visible_organizations_of`` answers; an organization id may be a bound
    parameter, for a statement built once) by ``organization_column``."""
    if seen is Reach.ALL:
        return true()
    if seen is Reach.NONE:
        return false()
    return organization_column == seen


def visible_ppas(user: User) -> ColumnElement[bool]:
    """A WHERE clause selecting the PPAs ``user`` may see."""
    return visible_rows(user, Ppa.organization_id)


def can_see_ppa(user: User, ppa: Ppa) -> bool:
    """True when ``user`` may see ``ppa`` (its organization is never null)."""
    return visible_organization(user, ppa.organization_id)


def can_edit_ppas_of(user: User, organization_id: int) -> bool:
    """True when ``user`` may create and edit PPAs of ``organization_id``:
    superusers anywhere, organization-scoped roles (MOA focal persons) in
    their own organization."""
    if is_superuser(user):
        return True
    scoped = set(get_runtime().rules.roles.organization_scoped_roles)
    return bool(roles_in(user, organization_id) & scoped)


def has_role(user: User, roles: Iterable[str], organization_id: int | None) -> bool:
    """True when ``user`` is a superuser or holds one of ``roles`` where it
    counts on a record of ``organization_id`` (``roles_in``): what
    ``require_role`` allows, for a page deciding which forms to offer."""
    return is_superuser(user) or bool(set(roles) & roles_in(user, organization_id))


def require_role(user: User, roles: Iterable[str], organization_id: int | None, action: str) -> None:
    """Allow ``action`` to superusers, and to holders of ``roles``; an
    organization-scoped role (``moa_focal``) counts only in its own
    organization.

    Raises:
        Forbidden: naming the roles that may.
    """
    if has_role(user, roles, organization_id):
        return
    scoped = set(get_runtime().rules.roles.organization_scoped_roles)
    raise Forbidden(f"to {action} you need the role {' or '.join(sorted(roles))}"
                    + (" in the PPA's organization" if set(roles) & scoped else ""))


def visible_organization(user: User, organization_id: int) -> bool:
    """True when ``user`` may see records of ``organization_id``."""
    return sees_all_organizations(user) or user.organization_id == organization_id


class Operator:
    """Whoever runs the command line on the server: sees every organization
    (like an administrator) but is nobody in particular. Only the CLI's
    read-only commands (reports) act as it."""

    id = None
    username = "operator"
    organization_id = None
    roles = frozenset({"admin"})


def require_tree_editor(user: User, ppa: Ppa) -> None:
    """Only the MOA's focal persons and administrators change a WBS.

    Raises:
        Forbidden: ``user`` may not.
    """
    if not can_edit_ppas_of(user, ppa.organization_id):
        raise Forbidden("only the MOA's focal persons and administrators change a PPA's work items")
