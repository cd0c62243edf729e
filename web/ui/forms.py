"""The web app's forms (Flask-WTF), grouped by the page module that uses
them. Forms check shape only (required, length, choices); the rules stay in
the services, whose ``ValidationFailed`` is shown next to the same fields
(``web.ui.pages.show_errors``). Every form that changes something carries
the CSRF token (``{{ form.csrf_token }}``); filter forms (GET) do not.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from workflow.vocabulary import ALERT_TYPES, SEVERITIES

ALERT_LABELS = {"workitem_budget_variance": "Over budget", "workitem_execution_blocked": "Blocked",
                "approval_overdue": "Approval overdue"}


def choices(pairs) -> list[SelectChoice]:
    """Options of a select from ``(value, label)`` pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class FilterForm(FlaskForm):
    """Base of the filter forms of list pages: read from the query string, no CSRF."""

    class Meta:
        csrf = False

    def __init__(self, *args, **kwargs):
        from flask import request

        super().__init__(*args, formdata=request.args, **kwargs)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (roles)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# -- auth ------------------------------------------------------------------------------


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class SignOutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST."""


# -- operations ------------------------------------------------------------------------


class AlertFilterForm(FilterForm):
    status = SelectField("Status", choices=choices([("open", "Open"), ("resolved", "Resolved"), ("", "All")]),
                         default="open")
    type = SelectField("Type", choices=choices([("", "All types")] + [(t, ALERT_LABELS[t]) for t in ALERT_TYPES]),
                       default="")
    severity = SelectField("Severity", choices=choices([("", "All")] + [(s, s.capitalize()) for s in SEVERITIES]),
                           default="")
    moa = StringField("MOA code", validators=[Optional(), Length(max=20)])


# -- admin -----------------------------------------------------------------------------


class OrganizationForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)], description="Short code, e.g. MSSD")
    name = StringField("Official name", validators=[DataRequired(), Length(max=200)])
    uacs_code = StringField("UACS organization code", validators=[Optional(), Length(max=12)],
                            description="12 digits, if known")


class UserFilterForm(FilterForm):
    q = StringField("Name contains", validators=[Optional(), Length(max=80)])
    role = SelectField("Role", choices=[], validate_choice=False)
    organization = SelectField("Organization", choices=[], validate_choice=False)
    active = SelectField("Active", choices=choices([("", "Active or not"), ("yes", "Active"), ("no", "Deactivated")]),
                         default="")


class UserCreateForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    full_name = StringField("Full name", validators=[Optional(), Length(max=200)])
    email = StringField("E-mail", validators=[Optional(), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off"})
    organization = SelectField("Organization", choices=[], validate_choice=False)
    roles = MultiCheckboxField("Roles", choices=[], validate_choice=False)
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})


class UserEditForm(FlaskForm):
    version = HiddenField()  # the user's ETag when the page was read: a stale save is refused
    organization = SelectField("Organization", choices=[], validate_choice=False)
    roles = MultiCheckboxField("Roles", choices=[], validate_choice=False)
    active = BooleanField("Active (may sign in and use API tokens)")


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})

