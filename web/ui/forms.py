"""The web app's forms (Flask-WTF), grouped by the page module that uses
them. Forms check shape only (required, length, choices); the rules stay in
the services, whose ``ValidationFailed`` is shown next to the same fields
(``web.ui.pages.show_errors``). Every form that changes something carries
the CSRF token (``{{ form.csrf_token }}``); filter forms (GET) do not.
"""

from __future__ import annotations

from decimal import Decimal

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from db.models.budget import PAYMENT_METHOD_NAMES, PAYMENT_METHODS
from services.budget import CLASS_NAMES
from web.ui.filters import CATEGORY_LABELS
from workflow.money import AmountError, bounded_number, format_amount, parse_amount
from workflow.text import text_problem
from workflow.validity import ALLOTMENT_CLASSES
from workflow.vocabulary import (
    ALERT_TYPES,
    APPROPRIATION_CLASSES,
    CATEGORIES,
    DISTRIBUTION_POLICIES,
    FIRST_FISCAL_YEAR,
    LAST_FISCAL_YEAR,
    PPA_STATUSES,
    PRIORITIES,
    SEVERITIES,
)

ALERT_LABELS = {"workitem_budget_variance": "Over budget", "workitem_execution_blocked": "Blocked",
                "approval_overdue": "Approval overdue", "workitem_schedule_performance": "Behind schedule (SPI)",
                "workitem_cost_performance": "Over cost (CPI)", "workitem_critical_slip": "Critical item slipped"}


def choices(pairs) -> list[SelectChoice]:
    """Options of a select from ``(value, label)`` pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class FilterForm(FlaskForm):
    """Base of the filter forms of list pages: read from the query string, no CSRF."""

    class Meta:
        csrf = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, formdata=request.args, **kwargs)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (roles)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def storable_text(_form, field) -> None:
    """Refuse text ppaflow cannot store or show safely (``workflow.text``:
    control characters, bidirectional overrides, ...), as the API does."""
    if isinstance(field.data, str) and (problem := text_problem(field.data)):
        raise ValidationError(problem[:1].upper() + problem[1:] + ".")


class MoneyField(StringField):
    """An amount in PHP as a person types it: ``1500000``, ``1,500,000.50``
    or ``₱1,500,000.50`` becomes ``Decimal("1500000.50")`` through
    ``workflow.money.parse_amount`` (never a float); anything else is an
    error next to the field. Empty is ``None`` (``InputRequired`` to refuse it)."""

    def __init__(self, label=None, validators=None, *, allow_negative: bool = False, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.allow_negative = allow_negative

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip().replace(",", "").replace("₱", "").replace(" ", "")
        if text:
            try:
                self.data = parse_amount(text, allow_negative=self.allow_negative)
            except AmountError as error:
                raise ValueError(f"Not an amount in pesos: {error}.") from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else format_amount(self.data)


class WeightField(StringField):
    """A weight of a weighted distribution (``0.25``), read as a ``Decimal``
    within the bounds of ``workflow.money.bounded_number``. Empty is ``None``."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if text:
            try:
                self.data = bounded_number(text)
            except AmountError:
                raise ValueError("Not a weight: use a decimal number such as 0.25.") from None


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


class OrganizationEditForm(FlaskForm):
    """An organization's FAR No. 1 header block and signatories (docs/design.md §8)."""

    version = HiddenField()  # the organization's ETag when the page was read: a stale save is refused
    name = StringField("Official name", validators=[DataRequired(), Length(max=200)])
    department = StringField("Department", validators=[Optional(), Length(max=200)],
                             description="As on the FAR No. 1 header, e.g. Bangsamoro Autonomous Region in Muslim Mindanao")
    agency = StringField("Agency", validators=[Optional(), Length(max=200)])
    operating_unit = StringField("Operating Unit", validators=[Optional(), Length(max=200)])
    uacs_code = StringField("UACS organization code", validators=[Optional(), Length(max=12)],
                            description="12 digits: department (2), agency (3), operating unit (7)")
    budget_officer_name = StringField("Budget Officer: name", validators=[Optional(), Length(max=120)])
    budget_officer_position = StringField("Budget Officer: position", validators=[Optional(), Length(max=120)])
    chief_accountant_name = StringField("Chief Accountant: name", validators=[Optional(), Length(max=120)])
    chief_accountant_position = StringField("Chief Accountant: position", validators=[Optional(), Length(max=120)])
    head_of_agency_name = StringField("Head of Agency: name", validators=[Optional(), Length(max=120)])
    head_of_agency_position = StringField("Head of Agency: position", validators=[Optional(), Length(max=120)])


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



# -- work items (the Work items tab) ------------------------------------------------------


class EnableTrackingForm(FlaskForm):
    template = SelectField("WBS template", choices=[], validate_choice=False,
                           description="The work items the PPA's execution project starts with; the budget is split "
                                       "by the template's percentages, to the centavo.")


class ExpenditureForm(FlaskForm):
    """Spending to add to a work item (a page shows one per item, with a prefix)."""

    amount = MoneyField("Amount spent (PHP)", validators=[InputRequired("Enter the amount spent.")],
                        allow_negative=True, description="Added to what the item has spent; a negative amount "
                                                         "corrects an earlier entry.")


class WorkItemForm(FlaskForm):
    """A new work item under an existing one (one per item, with a prefix)."""

    work_type = SelectField("Type", choices=[], validate_choice=False)
    title = StringField("Title", validators=[DataRequired("Give the work item a title."), Length(max=255)])
    allocated_budget = MoneyField("Allocation (PHP)", validators=[Optional()],
                                  description="Optional; at most what the parent has left to give.")
    start_date = DateField("Start date", validators=[Optional()])
    due_date = DateField("Due date", validators=[Optional()])


# -- budget (the Budget tab) -------------------------------------------------------------------


class DistributionChoiceForm(FilterForm):
    """What to distribute (a GET form): whose allocation, and how."""

    parent = SelectField("Distribute the allocation of", choices=[], validate_choice=False)
    method = SelectField("Method", choices=choices([
        ("equal", "Equal: the same amount to each work item"),
        ("weighted", "Weighted: shares by weights that sum to 1"),
        ("manual", "Manual: type each amount")]), default="manual")


class ShareForm(Form):
    """One work item of a distribution: its amount (manual) or weight (weighted)."""

    work_item_id = HiddenField()
    amount = MoneyField("Amount (PHP)", validators=[Optional()])
    weight = WeightField("Weight", validators=[Optional()])


class DistributionForm(FlaskForm):
    """A distribution over a parent's direct children (``tracking.distribute_budget``)."""

    method = HiddenField()
    parent = HiddenField()
    shares = FieldList(FormField(ShareForm))


# -- execution (the Execution tab) -------------------------------------------------------------

class PlanLineForm(Form):
    """One month and class of the financial plan: the obligations (BED No. 1)
    and disbursements (BED No. 3) planned; blank is zero."""

    month = HiddenField()
    allotment_class = HiddenField()
    obligations_planned = MoneyField("Obligations planned (PHP)", validators=[Optional()])
    disbursements_planned = MoneyField("Disbursements planned (PHP)", validators=[Optional()])


class FinancialPlanForm(FlaskForm):
    """The PPA's BED No. 1 and No. 3, every month × class in one post
    (``services.execution_plans.set_plan``)."""

    lines = FieldList(FormField(PlanLineForm))


class AllotmentForm(FlaskForm):
    program_budget = SelectField("Program budget", choices=[])
    # No quarter: it is the quarter of the release date (docs/design.md §12).
    release_date = DateField("Release date", validators=[InputRequired("Enter the release date.")])
    saro_number = StringField("SARO/GARO number", validators=[DataRequired("Enter the SARO or GARO number."),
                                                              Length(max=40)])
    amount = MoneyField("Amount (PHP)", validators=[InputRequired("Enter the amount released.")])


class ObligationForm(FlaskForm):
    allotment = SelectField("Allotment", choices=[])
    ors_number = StringField("ORS number", validators=[Optional(), Length(max=40)],
                             description="Leave it blank for the next of the fund cluster's series, or give it "
                                         "as GAM Appendix 11 does: class-funding source-year-month-serial, "
                                         "e.g. 02-01-2026-03-00001")
    payee = StringField("Payee", validators=[DataRequired("Enter the payee."), Length(max=255)])
    particulars = TextAreaField("Particulars", validators=[Optional(), Length(max=2000)])
    obligation_date = DateField("Obligation date", validators=[InputRequired("Enter the obligation date.")])
    amount = MoneyField("Amount (PHP)", validators=[InputRequired("Enter the amount obligated.")])
    work_item = SelectField("Charged to work item", choices=[], default="",
                            description="Its disbursements are this work item's actual expenditure")


class DisbursementForm(FlaskForm):
    obligation = SelectField("Obligation", choices=[])
    dv_number = StringField("DV number", validators=[Optional(), Length(max=40)],
                            description="Leave it blank for the next of the year's series, or give it as GAM "
                                        "Appendix 32 does: year-month-serial, e.g. 2026-04-0001")
    payment_method = SelectField("Mode of payment", choices=choices(
        (method, PAYMENT_METHOD_NAMES[method]) for method in PAYMENT_METHODS))
    disbursement_date = DateField("Disbursement date", validators=[InputRequired("Enter the disbursement date.")])
    amount = MoneyField("Amount (PHP)", validators=[InputRequired("Enter the amount paid.")])


# Corrections are new rows (docs/design.md §12 "Posted rows never change"): each form names the
# document it corrects, the business date the correction posts on, and why.

ADJUSTMENT_KINDS = ("reduction", "withdrawal", "augmentation")


class AllotmentAdjustmentForm(FlaskForm):
    """Reduce, withdraw from or augment an allotment (budget analysts)."""

    allotment = SelectField("Allotment", choices=[])
    kind = SelectField("Kind", choices=choices((kind, kind.capitalize()) for kind in ADJUSTMENT_KINDS))
    amount = MoneyField("Amount (PHP)", validators=[InputRequired("Enter the amount of the adjustment.")],
                        description="Positive; the kind gives the sign")
    adjustment_date = DateField("Date", validators=[InputRequired("Enter the date of the adjustment.")])
    reason = StringField("Reason", validators=[DataRequired("Say why the allotment is adjusted."), Length(max=500)])
    legal_basis = StringField("Legal basis", validators=[DataRequired("Enter the legal basis, e.g. the SARO "
                                                                      "amendment."), Length(max=255)])


class NorsaForm(FlaskForm):
    """A NORSA on an obligation: a signed amount (the MOA)."""

    obligation = SelectField("Obligation", choices=[])
    amount = MoneyField("Signed amount (PHP)", validators=[InputRequired("Enter the amount of the NORSA.")],
                        allow_negative=True,
                        description="Negative lowers the obligation, e.g. -1500.00")
    adjustment_date = DateField("Date", validators=[InputRequired("Enter the date of the NORSA.")])
    reason = StringField("Reason", validators=[DataRequired("Say why the obligation is adjusted."), Length(max=500)])
    legal_basis = StringField("Legal basis", validators=[DataRequired("Enter the NORSA number or other basis."),
                                                         Length(max=255)])


class CancelAllotmentForm(FlaskForm):
    """Cancel an allotment: its amount goes back to the program budget."""

    allotment = SelectField("Allotment", choices=[])
    cancelled_on = DateField("Cancelled on", validators=[InputRequired("Enter the date of the cancellation.")])
    reason = StringField("Reason", validators=[DataRequired("Say why the allotment is cancelled."), Length(max=500)])


class CancelObligationForm(FlaskForm):
    """Cancel an obligation: its amount goes back to the allotment."""

    obligation = SelectField("Obligation", choices=[])
    cancelled_on = DateField("Cancelled on", validators=[InputRequired("Enter the date of the cancellation.")])
    reason = StringField("Reason", validators=[DataRequired("Say why the obligation is cancelled."), Length(max=500)])


class VoidDisbursementForm(FlaskForm):
    """Void a disbursement: its amount goes back to the obligation."""

    disbursement = SelectField("Disbursement", choices=[])
    voided_on = DateField("Voided on", validators=[InputRequired("Enter the date of the void.")])
    reason = StringField("Reason", validators=[DataRequired("Say why the disbursement is voided."), Length(max=500)])
def optional_id(value) -> int | None:
    """A select's row id as an ``int``; the blank choice (``""``) is ``None``."""
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.isdigit() or len(text) > 12:
        raise ValueError("not a row id")
    return int(text)


#: The allotment classes as the GAA names them, in its order.
CLASS_CHOICES = tuple((klass, CLASS_NAMES[klass]) for klass in ALLOTMENT_CLASSES)


class AppropriationAdjustmentForm(FlaskForm):
    """Augment, modify or transfer an appropriation (MFBM budget analysts;
    ``services.adjustments.adjust_appropriation``, docs/design.md §12
    "Adjustments and transfers"). The fields after ``program_budget`` are the
    service's arguments by name, so its messages land next to them."""

    program_budget = SelectField("Program budget", choices=[])
    kind = SelectField("Kind", choices=choices((
        ("augmentation", "Augmentation (adds to one class)"),
        ("modification", "Modification (from one class to another)"),
        ("transfer", "Transfer (to another program budget of the MOA)"))))
    amount = MoneyField("Amount (PHP)", validators=[InputRequired("Enter the amount of the adjustment.")],
                        description="Positive; the kind says where it goes")
    allotment_class = SelectField("Allotment class", choices=choices(CLASS_CHOICES),
                                  description="The class augmented, or the one the amount comes from")
    to_allotment_class = SelectField("To allotment class", choices=choices((("", "—"), *CLASS_CHOICES)), default="",
                                     description="A modification's receiving class; a transfer's when not the same")
    to_program_budget_id = SelectField("To program budget", choices=[], coerce=optional_id, default="",
                                       description="A transfer's receiving program budget: same MOA and fiscal year")
    adjustment_date = DateField("Date", validators=[InputRequired("Enter the date of the adjustment.")])
    reason = StringField("Reason", validators=[DataRequired("Say why the appropriation is adjusted."),
                                               Length(max=500)])
    legal_basis = StringField("Legal basis", validators=[DataRequired("Enter the legal basis, e.g. the section of "
                                                                      "the appropriations act."), Length(max=255)])


class RealignmentForm(FlaskForm):
    """Realign an amount from one allotment to another of the same program
    budget and MOA (the MOA's budget officer or a budget analyst;
    ``services.adjustments.realign_allotment``)."""

    allotment = SelectField("From allotment", choices=[])
    to_allotment_id = SelectField("To allotment", choices=[], coerce=optional_id)
    amount = MoneyField("Amount (PHP)", validators=[InputRequired("Enter the amount realigned.")],
                        description="Positive; never below what the first allotment has obligated")
    adjustment_date = DateField("Date", validators=[InputRequired("Enter the date of the realignment.")])
    reason = StringField("Reason", validators=[DataRequired("Say why the allotment is realigned."), Length(max=500)])
    legal_basis = StringField("Legal basis", validators=[DataRequired("Enter the legal basis, e.g. the "
                                                                      "realignment's approval."), Length(max=255)])


class SubAllotmentForm(FlaskForm):
    """Sub-allot part of an allotment to another MOA or operating unit (the
    MOA's budget officer or a budget analyst; ``services.adjustments.sub_allot``)."""

    allotment = SelectField("Allotment", choices=[])
    recipient = StringField("Recipient", validators=[DataRequired("Enter the code of the MOA or operating unit "
                                                                  "that receives it."), Length(max=20)],
                            description="The receiving MOA's or operating unit's code, e.g. MTIT")
    amount = MoneyField("Amount (PHP)", validators=[InputRequired("Enter the amount sub-allotted.")],
                        description="Never above what is unused of the allotment")
    sub_allotment_date = DateField("Date", validators=[InputRequired("Enter the date of the sub-allotment.")])
    saro_number = StringField("Sub-ARO number", validators=[DataRequired("Enter the Sub-ARO number."),
                                                            Length(max=40)])
    reason = StringField("Reason", validators=[DataRequired("Say why the allotment is sub-allotted."),
                                               Length(max=500)])
    legal_basis = StringField("Legal basis", validators=[DataRequired("Enter the legal basis, e.g. the "
                                                                      "memorandum of agreement."), Length(max=255)])


# -- ppas ------------------------------------------------------------------------------

CLASS_LABELS = {"ps": "PS — Personnel Services", "mooe": "MOOE — Maintenance and Other Operating Expenses",
                "finex": "FinEx — Financial Expenses", "co": "CO — Capital Outlay"}


class PpaForm(FlaskForm):
    """A PPA's content fields (``/ppas/new``, and the Details tab in draft);
    the names are the API's, so the service's messages land next to them."""

    version = HiddenField()  # the PPA's ETag when the page was read: a stale save is refused
    title = StringField("Title", validators=[DataRequired(), Length(max=255), storable_text])
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=20_000), storable_text],
                            render_kw={"rows": 4})
    category = SelectField("Category", choices=choices((c, CATEGORY_LABELS[c]) for c in CATEGORIES))
    implementing_moa = SelectField("Implementing MOA", choices=[], validate_choice=False)
    program_code = StringField("Program code", validators=[Optional(), Length(max=50), storable_text],
                               description="e.g. MSSD-2025-001")
    fiscal_year = IntegerField("Fiscal year", validators=[DataRequired(), NumberRange(FIRST_FISCAL_YEAR,
                                                                                      LAST_FISCAL_YEAR)],
                               render_kw={"inputmode": "numeric"})
    sector = StringField("Sector", validators=[Optional(), Length(max=50), storable_text])
    funding_source = StringField("Funding source", validators=[Optional(), Length(max=100), storable_text])
    appropriation_class = SelectField("Appropriation class",
                                      choices=choices((c, CLASS_LABELS[c]) for c in APPROPRIATION_CLASSES),
                                      default="mooe")
    priority = SelectField("Priority", choices=choices((p, p.capitalize()) for p in PRIORITIES), default="medium")
    start_date = DateField("Start date", validators=[Optional()])
    target_end_date = DateField("Target end date", validators=[Optional()])
    budget_allocation = MoneyField("Budget allocation (PHP)", validators=[InputRequired()],
                                   description="In pesos and centavos, e.g. 5,000,000.00",
                                   render_kw={"inputmode": "decimal", "autocomplete": "off"})
    wbs_template = SelectField("WBS template", choices=[], validate_choice=False,
                               description="The work breakdown generated at technical review approval")
    budget_distribution_policy = SelectField(
        "Budget distribution", default="manual", choices=choices((p, p.capitalize()) for p in DISTRIBUTION_POLICIES),
        description="How the budget is split over the work items")

    #: The fields sent to the service (``version`` is the If-Match).
    CONTENT = ("title", "summary", "category", "implementing_moa", "program_code", "fiscal_year", "sector",
               "funding_source", "appropriation_class", "priority", "start_date", "target_end_date",
               "budget_allocation", "wbs_template", "budget_distribution_policy")



class PpaFilterForm(FilterForm):
    """Filters of ``/ppas`` (the API's ``PpaFilters``) and its sort order."""

    q = StringField("Title contains", validators=[Optional(), Length(max=100), storable_text])
    fiscal_year = IntegerField("Fiscal year", validators=[Optional(), NumberRange(FIRST_FISCAL_YEAR,
                                                                                  LAST_FISCAL_YEAR)])
    moa = SelectField("MOA", choices=[], validate_choice=False)
    stage = SelectField("Stage", choices=[], validate_choice=False)
    status = SelectField("Status", choices=choices([("", "Any status")] + [(s, s.replace("_", " ").capitalize())
                                                                          for s in PPA_STATUSES]), default="")
    category = SelectField("Category", choices=choices([("", "Any category")]
                                                       + [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]), default="")
    sort = HiddenField()


class TransitionForm(FlaskForm):
    """One approval trigger fired from the Actions panel."""

    trigger = HiddenField(validators=[DataRequired()])
    version = HiddenField()  # the PPA's ETag when the page was read
    next = HiddenField()  # the tab to return to
    comment = TextAreaField("Comment", validators=[Optional(), Length(max=20_000)], render_kw={"rows": 4})


class NeedTransitionForm(TransitionForm):
    """One step of a community need fired from its Actions panel; forward names the MOA."""

    organization = SelectField("Forward to the MOA", choices=[], validate_choice=False,
                               validators=[Optional(), Length(max=20)])


class NeedForm(FlaskForm):
    """Raise a community need (docs/design.md §14): what, where (PSGC codes),
    for how many, how urgent, at what estimated cost, and the person's
    consent to the privacy notice. Choices come from needs.yaml and
    psgc_barmm.yaml; the service checks them and the consent (messages
    next to the fields)."""

    title = StringField("Title", validators=[InputRequired(), Length(max=200), storable_text])
    description = TextAreaField("Description", validators=[InputRequired(), Length(max=5000), storable_text],
                                description="What is lacking, for whom, and what has been tried.")
    category = SelectField("Category", choices=[], validate_choice=False, validators=[InputRequired()])
    urgency = SelectField("Urgency", choices=[], validate_choice=False, validators=[InputRequired()])
    submission_type = SelectField("How it came in", choices=[], validate_choice=False)
    province_code = SelectField("Province", choices=[], validate_choice=False, validators=[Optional()])
    municipality_code = StringField("Municipality (PSGC code)", validators=[Optional(), Length(max=10)],
                                    description="10 digits, e.g. 1900703000; leave empty if it concerns the province.")
    barangay_code = StringField("Barangay (PSGC code)", validators=[Optional(), Length(max=10)])
    population_affected = IntegerField("People affected", validators=[Optional(), NumberRange(min=0)])
    estimated_cost = MoneyField("Estimated cost (PHP)", validators=[Optional()])
    consent = BooleanField("I agree that ppaflow records who raised this need, as the privacy notice below says.")


class NeedFilterForm(FilterForm):
    """Filters of the lists of needs (docs/design.md §14), from the query string."""

    category = SelectField("Category", choices=[], validate_choice=False, default="")
    province_code = SelectField("Province", choices=[], validate_choice=False, default="")
    status = SelectField("Status", choices=[], validate_choice=False, default="")


class SignBoxForm(TransitionForm):
    """One box of an ORS or DV signed (or the document cancelled) from the
    Execution tab (docs/design.md §12 "In the web app"). Box E of a DV
    (``pay``) also takes the check or ADA number, its issue date and the JEV
    number; the service says which one is missing (422 per field), so they
    are optional here."""

    check_ada_number = StringField("Check or ADA number", validators=[Optional(), Length(max=40)])
    check_ada_date = DateField("Check or ADA issue date", validators=[Optional()],
                               description="The disbursement's date: its quarter comes from it.")
    jev_number = StringField("JEV number", validators=[Optional(), Length(max=40)])


class AttachmentForm(FlaskForm):
    """One supporting document (its type is checked by its content, on the server)."""

    file = FileField("Document", validators=[FileRequired("Choose the document to attach.")],
                     description="PDF, image (PNG, JPEG, GIF, WebP), Excel (.xlsx) or Word (.docx)")


# -- reports ---------------------------------------------------------------------------


class ReportForm(FlaskForm):
    """The Reports page's choice (docs/design.md §8, §11): the report (its
    choices: every ``services.reports.REPORTS``), the fiscal year, the MOA,
    the quarter ending and fund cluster of a statement, the format."""

    report = RadioField("Report", choices=[], default="mfbm", validators=[DataRequired()])
    fiscal_year = IntegerField("Fiscal year", validators=[DataRequired(), NumberRange(FIRST_FISCAL_YEAR,
                                                                                      LAST_FISCAL_YEAR)],
                               render_kw={"inputmode": "numeric"})
    moa = SelectField("MOA", choices=[], validate_choice=False)
    quarter = SelectField("Quarter ending", choices=choices([
        ("", "The last closed quarter"), ("1", "March 31 (1st quarter)"), ("2", "June 30 (2nd quarter)"),
        ("3", "September 30 (3rd quarter)"), ("4", "December 31 (4th quarter)")]), default="",
        description="Statements only; the MFBM report is as of today.")
    fund_cluster = SelectField("Fund cluster", choices=[], default="",
                               description="Statements only; by default each fund cluster on its own sheet.")
    file_format = RadioField("Format", choices=choices([("xlsx", "Excel workbook (.xlsx)"),
                                                        ("pdf", "PDF to print (Legal landscape)")]),
                             default="xlsx", validate_choice=True)
    background = BooleanField("Run in the background and tell me when it is ready")


class FocalPersonForm(FlaskForm):
    """A MOA's focal person appointed from ``/organizations/<id>/focal-persons``
    (docs/design.md §16 "Focal persons and coordination meetings"); the
    service checks the kind, the user and the one current primary."""

    kind = SelectField("Kind", choices=[], validate_choice=False, validators=[DataRequired(), Length(max=30)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120), storable_text])
    position = StringField("Position", validators=[Optional(), Length(max=120), storable_text])
    email = StringField("E-mail", validators=[Optional(), Length(max=254), storable_text],
                        description="Personal data: shown only to signed-in users who may see the MOA")
    phone = StringField("Phone", validators=[Optional(), Length(max=40), storable_text])
    appointed_on = DateField("Appointed on", validators=[InputRequired()])


class MeetingForm(FlaskForm):
    """A quarterly coordination meeting called from ``/coordination-meetings``."""

    organization = SelectField("MOA", choices=[], validate_choice=False, validators=[Optional(), Length(max=20)])
    fiscal_year = IntegerField("Fiscal year", validators=[InputRequired(), NumberRange(2000, 2100)])
    quarter = SelectField("Quarter", choices=choices([("1", "Q1"), ("2", "Q2"), ("3", "Q3"), ("4", "Q4")]),
                          validators=[DataRequired()])
    held_on = DateField("Held on", validators=[InputRequired()])
    report_due_on = DateField("Pre-meeting report due on", validators=[Optional()],
                              description="Leave empty for the rules' default lead time")
    agenda = TextAreaField("Agenda", validators=[Optional(), Length(max=20_000), storable_text],
                          render_kw={"rows": 3})


# -- budget scenarios (docs/design.md §17) ------------------------------------------


class ScenarioCopyForm(FlaskForm):
    """A scenario copied from a fiscal year's enacted appropriations
    (``/scenarios``); the service refuses a year with none, on the field."""

    from_fiscal_year = IntegerField("Fiscal year to copy", validators=[
        InputRequired("Enter the fiscal year whose enacted appropriations to copy."),
        NumberRange(FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR)], render_kw={"inputmode": "numeric"})
    name = StringField("Name", validators=[Optional(), Length(max=200), storable_text],
                       description='Leave it blank for "Enacted FY <year>"')
    ceiling = MoneyField("Ceiling (PHP)", validators=[Optional()],
                         description="Leave it blank for the total of the copied appropriations")
    baseline = BooleanField("Mark it as the baseline", default=True)
    description = TextAreaField("Description", validators=[Optional(), Length(max=20_000), storable_text],
                                render_kw={"rows": 2})


#: What an adjustment may select by, as the page words it (``services.scenarios.SCOPES``).
SCOPE_LABELS = (("all", "Every PPA"), ("moa", "One MOA"), ("sector", "One sector"),
                ("class", "One allotment class"), ("ppa", "One PPA"))


class PercentField(WeightField):
    """A percent as a person types it (``-5``, ``12.5``), read as a ``Decimal``
    within ``workflow.money.bounded_number``'s bounds. Empty is ``None``."""

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip().removesuffix("%").strip()
        if text:
            try:
                self.data = Decimal(bounded_number(text))
            except AmountError:
                raise ValueError("Not a percent: use a number such as -5 or 12.5.") from None


class ScenarioAdjustForm(FlaskForm):
    """An adjustment of a scenario's allocations by percent or amount
    (``/scenarios/<id>``); the service checks the rest (one of the two,
    nothing below zero, something selected), next to the fields."""

    scope = SelectField("Adjust", choices=choices(SCOPE_LABELS), default="all")
    value = StringField("Which one", validators=[Optional(), Length(max=50), storable_text],
                        description="The MOA code (MSSD), sector (health), class (mooe) or PPA id; "
                                    "empty for every PPA")
    percent = PercentField("By percent", description="e.g. -5 or 12.5; or give an amount")
    amount = MoneyField("By amount (PHP)", allow_negative=True,
                        description="Signed, spread in proportion to the allocations; or give a percent")
    justification = StringField("Justification", validators=[Optional(), Length(max=2000), storable_text])


class ScenarioOptimiseForm(FlaskForm):
    """Ask the optimiser for a proposal from a scenario's PPAs (``/scenarios/<id>/optimise``)."""

    name = StringField("Name of the proposal", validators=[Optional(), Length(max=200), storable_text],
                       description='Leave it blank for "<this scenario> — optimised"')
    save = BooleanField("Keep the proposal as a new scenario", default=True)
