"""``/admin/organizations`` and ``/admin/users`` (issue 11): administrators
manage organizations and users — create, roles, organization, active or
not, reset a password, revoke API tokens — through ``services.users``, which
refuses anyone else (403 page) and decides every rule (the last
administrator, roles needing an organization, password strength)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services import users
from services.runtime import get_runtime
from web.ui.forms import (
    OrganizationForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    choices,
)
from web.ui.pages import (
    FORM_REFUSALS,
    first_rows,
    load_form,
    paginate,
    refuse,
    signed_in,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _role_choices():
    return choices((role, f"{role} — {description.split(';')[0]}")
                   for role, description in get_runtime().rules.approval.roles.items())


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
    form, status = load_form(OrganizationForm), 200
    if form.validate_on_submit():
        try:
            organization = users.add_organization(actor, form.code.data.strip(), form.name.data,
                                                  uacs_code=(form.uacs_code.data or "").strip() or None)
        except FORM_REFUSALS as error:
            status = refuse(form, error)
        else:
            flash(f"Organization {organization.code} added.")
            return redirect(url_for(".organization_list"))
    elif request.method == "POST":
        status = 422
    rows, pagination = paginate(users.list_organizations(actor))
    return render_template("admin/organizations.html", form=form, organizations=rows,
                           pagination=pagination), status


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
    form, status = load_form(UserCreateForm), 200
    form.roles.choices = _role_choices()
    form.organization.choices = _organization_choices("No organization")
    if form.validate_on_submit():
        try:
            user = users.create_user(actor, {
                "username": form.username.data.strip(), "roles": form.roles.data,
                "organization": form.organization.data or None, "full_name": form.full_name.data or "",
                "email": (form.email.data or "").strip() or None, "password": form.password.data})
        except FORM_REFUSALS as error:
            status = refuse(form, error)
        else:
            flash(f"User {user.username} created; they can sign in with the password you gave.")
            return redirect(url_for(".user_detail", user_id=user.id))
    elif request.method == "POST":
        status = 422
    return render_template("admin/user_new.html", form=form), status


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int):
    """One user: roles, organization and active (saved only if nobody changed
    the user meanwhile), password reset, API tokens."""
    actor = signed_in()
    user = users.get_user_by_id_or_raise(actor, user_id)
    form, status = _edit_form(user), 200
    if form.validate_on_submit():
        try:
            user = users.update_user(actor, user_id, {
                "roles": form.roles.data, "organization": form.organization.data or None,
                "active": form.active.data}, if_match=form.version.data)
        except FORM_REFUSALS as error:
            status = refuse(form, error)
        else:
            flash(f"User {user.username} saved.")
            return redirect(url_for(".user_detail", user_id=user.id))
    elif request.method == "POST":
        status = 422
    return _user_page(user, form, PasswordResetForm(), status)


@bp.route("/users/<id:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    """Reset a user's password (their other sessions end)."""
    actor = signed_in()
    user = users.get_user_by_id_or_raise(actor, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            users.update_user(actor, user_id, {"password": form.password.data})
        except FORM_REFUSALS as error:
            status = refuse(form, error)
        else:
            flash(f"Password of {user.username} reset; their sessions have ended.")
            return redirect(url_for(".user_detail", user_id=user_id))
    else:
        status = 422
    return _user_page(user, _edit_form(user), form, status)


@bp.route("/users/<id:user_id>/tokens/revoke", methods=["POST"])
def user_revoke_tokens(user_id: int):
    """Revoke every live API token of a user."""
    user = users.get_user_by_id_or_raise(signed_in(), user_id)
    revoked = users.revoke_tokens(user.username)
    flash(f"{revoked} API token{'s' if revoked != 1 else ''} of {user.username} revoked.")
    return redirect(url_for(".user_detail", user_id=user_id))
