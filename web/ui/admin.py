"""``/admin/organizations`` and ``/admin/users`` (issue 11): administrators
manage organizations and users — create, roles, organization, deactivate,
reset password, revoke API tokens — through ``services.users``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
