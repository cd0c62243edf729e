"""``/api/organizations`` and ``/api/users``: administration over HTTP, for
administrators only (issue 10). The command line does the same
(``ppaflow org ...``, ``ppaflow user ...``) with the same services."""

from __future__ import annotations

from flask import request, url_for
from flask.views import MethodView

from db.models import User
from services import users
from services.users import UserFilters
from web.auth import current_user
from web.pagination import SQLPage
from web.parsing import Blueprint
from web.schemas import (
    AccountSchema,
    OrganizationCreateSchema,
    OrganizationPatchSchema,
    OrganizationSchema,
    UserCreateSchema,
    UserFilterSchema,
    UserPatchSchema,
)

ETAG = {"ETag": {"schema": {"type": "string"}, "description": "the version, for If-Match"}}

blp = Blueprint("admin", __name__, url_prefix="/api",
                description="Administration (administrators only): organizations and users, their roles, "
                            "organization, activity and password.")


def with_etag(row, status: int = 200, location: str | None = None):
    """``(row, status, headers)`` with the row's ETag (and ``Location``)."""
    headers = {"ETag": row.etag} | ({"Location": location} if location else {})
    return row, status, headers


@blp.route("/organizations")
class Organizations(MethodView):
    @blp.response(200, OrganizationSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self):
        """Every organization, by code."""
        return users.list_organizations(current_user())

    @blp.arguments(OrganizationCreateSchema)
    @blp.response(201, OrganizationSchema, headers=ETAG)
    def post(self, data):
        """Register a MOA or oversight body; 409 ``organization_exists`` when
        its code (in any letter case) or UACS code is taken."""
        organization = users.add_organization(current_user(), data["code"], data["name"],
                                              uacs_code=data.get("uacs_code"))
        return with_etag(organization, 201, url_for("admin.OrganizationOne", organization_id=organization.id))


@blp.route("/organizations/<id:organization_id>")
class OrganizationOne(MethodView):
    @blp.response(200, OrganizationSchema, headers=ETAG)
    def get(self, organization_id):
        """One organization, with its FAR No. 1 header block and signatories
        (administrators and MFBM budget analysts)."""
        return with_etag(users.read_organization(current_user(), organization_id))

    @blp.arguments(OrganizationPatchSchema)
    @blp.response(200, OrganizationSchema, headers=ETAG)
    def patch(self, data, organization_id):
        """Set the header block (department, agency, operating unit, UACS
        organization code) and the signatories (budget officer, chief
        accountant, head of agency: name and position); send If-Match with the
        ETag you read (stale: 412). Administrators only; audited."""
        return with_etag(users.update_organization(current_user(), organization_id, data,
                                                   if_match=request.headers.get("If-Match")))


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserFilterSchema, location="query")
    @blp.response(200, AccountSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, filters):
        """Users by name (filters: role, organization, active, q)."""
        return users.list_users(current_user(), UserFilters(**filters))

    @blp.arguments(UserCreateSchema)
    @blp.response(201, AccountSchema, headers=ETAG)
    def post(self, data):
        """Create a user, with an initial password if given (no API token:
        ``ppaflow token issue`` makes one). A ``moa_focal`` needs an
        organization (422); a taken name is 409 ``user_exists``, a look-alike
        of one 409 ``username_confusable``."""
        user = users.create_user(current_user(), data)
        return with_etag(user, 201, url_for("admin.UserOne", user_id=user.id))


@blp.route("/users/<id:user_id>")
class UserOne(MethodView):
    @blp.response(200, AccountSchema, headers=ETAG)
    def get(self, user_id):
        """One user; the ETag header is its version for If-Match."""
        return with_etag(users.get_or_raise(current_user(), User, user_id))

    @blp.arguments(UserPatchSchema)
    @blp.response(200, AccountSchema, headers=ETAG)
    def patch(self, data, user_id):
        """Change roles, organization, activity, name, e-mail or password;
        send If-Match with the ETag you read (stale: 412). Deactivating the
        last active administrator is 409 ``last_administrator``."""
        return with_etag(users.update_user(current_user(), user_id, data, if_match=request.headers.get("If-Match")))
