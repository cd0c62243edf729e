"""``/admin/organizations`` and ``/admin/users`` (issue 11): administrators
manage organizations and users — create, roles, organization, active or
not, reset a password, revoke API tokens — through ``services.users``, which
refuses anyone else (403 page) and decides every rule (the last
administrator, roles needing an organization, password strength)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from db.models import Organization, User
from services import users
from services.runtime import get_runtime
from web.ui.forms import (
    OrganizationEditForm,
    OrganizationForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    choices,
)
from web.ui.pages import first_rows, load_form, paginate, saved, signed_in, submit
from workflow.errors import ValidationFailed

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _role_choices():
    return choices((role, f"{role} — {description.split(';')[0]}")
                   for role, description in get_runtime().rules.roles.descriptions.items())


def _organization_choices(blank: str):
    organizations = first_rows(users.list_organizations(signed_in()), 1000)
    return choices([("", blank)] + [(o.code, f"{o.code} — {o.name}") for o in organizations])


def _edit_form(user):
    """The roles / organization / active form of ``user``, filled with their
    values (or, after a sign-in, with the kept input)."""
    form = load_form(UserEditForm, data={"organization": user.organization.code if user.organization else "",
                                         "roles": sorted(user.roles), "active": user.is_active,
                                         "version": user.etag})
    form.roles.choices = _role_choices()
    form.organization.choices = _organization_choices("No organization")
    return form


def _user_page(user, form, password_form, status: int):
    return render_template("admin/user.html", user=user, form=form, password_form=password_form,
                           tokens=users.tokens_of(user.username)), status


@bp.route("/organizations", methods=["GET", "POST"])
def organization_list():
    """Every organization, and the form to add one."""
    actor = signed_in()
    form = load_form(OrganizationForm)
    done, status = submit(form, lambda: users.add_organization(
        actor, form.code.data.strip(), form.name.data, uacs_code=(form.uacs_code.data or "").strip() or None),
        lambda organization: saved(f"Organization {organization.code} added.", url_for(".organization_list")))
    if done:
        return done
    rows, pagination = paginate(users.list_organizations(actor))
    return render_template("admin/organizations.html", form=form, organizations=rows,
                           pagination=pagination), status


@bp.route("/organizations/<id:organization_id>", methods=["GET", "POST"])
def organization_detail(organization_id: int):
    """One organization: its name, the FAR No. 1 header block and the
    signatories (saved only if nobody changed the organization meanwhile)."""
    actor = signed_in()
    organization = users.get_or_raise(actor, Organization, organization_id)
    data = {field: getattr(organization, field) or "" for field in (
        "name", "department", "agency", "operating_unit", "uacs_code")}
    for role in Organization.SIGNATORIES:
        data[f"{role}_name"], data[f"{role}_position"] = organization.signatory(role)
    form = load_form(OrganizationEditForm, data=data | {"version": organization.etag})

    def save():
        changes = {field: getattr(form, field).data or "" for field in (
            "name", "department", "agency", "operating_unit", "uacs_code")}
        for role in Organization.SIGNATORIES:
            changes[role] = {"name": getattr(form, f"{role}_name").data or "",
                             "position": getattr(form, f"{role}_position").data or ""}
        try:
            return users.update_organization(actor, organization_id, changes, if_match=form.version.data)
        except ValidationFailed as error:  # "budget_officer.name" is the form's budget_officer_name
            raise ValidationFailed({name.replace(".", "_"): messages for name, messages in error.errors.items()}) \
                from error

    done, status = submit(form, save, lambda changed: saved(
        f"Organization {changed.code} saved.", url_for(".organization_detail", organization_id=organization_id)))
    return done or (render_template("admin/organization.html", organization=organization, form=form), status)


@bp.route("/users")
def user_list():
    """Users by name; filters: text, role, organization, active."""
    actor = signed_in()
    form = UserFilterForm()
    form.role.choices = choices([("", "Any role")]) + _role_choices()
    form.organization.choices = _organization_choices("Any organization")
    active = {"yes": True, "no": False}.get(form.active.data)
    rows, pagination = paginate(users.list_users(actor, users.UserFilters(
        role=form.role.data or None, organization=form.organization.data or None, active=active,
        q=(form.q.data or "").strip() or None)))
    return render_template("admin/users.html", form=form, users=rows, pagination=pagination)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Create a user with roles, an organization and a first password."""
    actor = signed_in()
    users.require_administrator(actor)
    form = load_form(UserCreateForm)
    form.roles.choices = _role_choices()
    form.organization.choices = _organization_choices("No organization")
    done, status = submit(form, lambda: users.create_user(actor, {
        "username": form.username.data.strip(), "roles": form.roles.data,
        "organization": form.organization.data or None, "full_name": form.full_name.data or "",
        "email": (form.email.data or "").strip() or None, "password": form.password.data}),
        lambda user: saved(f"User {user.username} created; they can sign in with the password you gave.",
                           url_for(".user_detail", user_id=user.id)))
    return done or (render_template("admin/user_new.html", form=form), status)


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int):
    """One user: roles, organization and active (saved only if nobody changed
    the user meanwhile), password reset, API tokens."""
    actor = signed_in()
    user = users.get_or_raise(actor, User, user_id)
    form = _edit_form(user)
    done, status = submit(form, lambda: users.update_user(actor, user_id, {
        "roles": form.roles.data, "organization": form.organization.data or None, "active": form.active.data},
        if_match=form.version.data),
        lambda changed: saved(f"User {changed.username} saved.", url_for(".user_detail", user_id=user_id)))
    return done or _user_page(user, form, PasswordResetForm(), status)


@bp.route("/users/<id:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    """Reset a user's password (their other sessions end)."""
    actor = signed_in()
    user = users.get_or_raise(actor, User, user_id)
    form = PasswordResetForm()
    done, status = submit(form, lambda: users.update_user(actor, user_id, {"password": form.password.data}),
                          lambda changed: saved(f"Password of {changed.username} reset; their sessions have ended.",
                                                url_for(".user_detail", user_id=user_id)))
    return done or _user_page(user, _edit_form(user), form, status)


@bp.route("/users/<id:user_id>/tokens/revoke", methods=["POST"])
def user_revoke_tokens(user_id: int):
    """Revoke every live API token of a user."""
    user = users.get_or_raise(signed_in(), User, user_id)
    revoked = users.revoke_tokens(user.username)
    return saved(f"{revoked} API token{'s' if revoked != 1 else ''} of {user.username} revoked.",
                 url_for(".user_detail", user_id=user_id))
