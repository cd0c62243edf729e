"""Who may see and change what (DESIGN §3, §5).

A user holding only organization-scoped roles (``moa_focal`` by default,
rules/approval.yaml ``organization_scoped_roles``) sees and edits only their
own organization's PPAs; to them every other PPA does not exist (404, never
403). A user holding any other role (reviewers, executives, admins) sees all.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from db.models import Ppa, User
from services.runtime import get_runtime
from workflow.approval import Actor


def actor_of(user: User) -> Actor:
    """The domain's view of a user: id and roles."""
    return Actor(user_id=user.id, roles=user.roles)


def sees_all_organizations(user: User) -> bool:
    """True when ``user`` holds a role that is not organization-scoped."""
    scoped = set(get_runtime().rules.approval.organization_scoped_roles)
    return bool(user.roles - scoped)


def is_superuser(user: User) -> bool:
    """True when ``user`` holds a superuser role (``admin``)."""
    return bool(user.roles & set(get_runtime().rules.approval.superuser_roles))


def visible_ppas(user: User) -> ColumnElement[bool]:
    """A WHERE clause selecting the PPAs ``user`` may see."""
    if sees_all_organizations(user):
        return true()
    if user.organization_id is None:
        return false()
    return Ppa.organization_id == user.organization_id


def can_see_ppa(user: User, ppa: Ppa) -> bool:
    """True when ``user`` may see ``ppa``."""
    return sees_all_organizations(user) or (
        user.organization_id is not None and ppa.organization_id == user.organization_id)


def can_edit_ppas_of(user: User, organization_id: int) -> bool:
    """True when ``user`` may create and edit PPAs of ``organization_id``:
    superusers anywhere, organization-scoped roles (MOA focal persons) in
    their own organization."""
    if is_superuser(user):
        return True
    scoped = set(get_runtime().rules.approval.organization_scoped_roles)
    return bool(user.roles & scoped) and user.organization_id == organization_id
