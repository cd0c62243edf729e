"""Frozen, typed rule objects built by the loader from a rule set's YAML files
(``rules/default/`` unless ``PPAFLOW_RULES_DIR`` names another folder).

Nothing outside ``rules/`` reads YAML; everything else reads these objects.
They are immutable (frozen dataclasses, tuples, read-only mappings) so one
loaded set can be shared by every request and job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from workflow.calendar import Calendar
from workflow.conditions import Condition
from workflow.validity import ValidityRules


def frozen_map(data: Mapping) -> Mapping:
    """A read-only view of ``data`` (insertion order kept)."""
    return MappingProxyType(dict(data))


@dataclass(frozen=True)
class SignOff:
    """An n-of-m sign-off stage (``sign_off:`` of a stage; docs/design.md §6).

    The stage's ``trigger`` (``approve``) is a sign-off: each one is recorded
    as a history row that keeps the record in the stage, naming whom it was
    signed for; the ``required``-th moves it on. One sign-off per listed
    agency (organization code) or role.

    Attributes:
        required: sign-offs needed (K), 1 <= K <= len(of).
        of: the listed agencies' organization codes (``MPW``) and/or roles.
        roles: those entries of ``of`` that are roles (the signer signs for
            the role they sign in); the others are organization codes (the
            signer signs for their own organization).
        trigger: the trigger that signs off.
    """

    required: int
    of: tuple[str, ...]
    roles: tuple[str, ...] = ()
    trigger: str = "approve"

    def signs_for(self, organization: str | None, role: str | None) -> str | None:
        """What a signer of ``organization`` signing as ``role`` signs for:
        the role when it is listed, else the organization when listed, else ``None``."""
        if role is not None and role in self.roles:
            return role
        if organization is not None and organization in self.of and organization not in self.roles:
            return organization
        return None


@dataclass(frozen=True)
class Escalation:
    """What happens to a record left in a stage too long (``escalate:``;
    docs/design.md §6): after ``after_business_days`` business days the
    holders of the ``notify`` roles are told, once per stay; with ``then``
    the trigger fires by itself, recorded as by the system."""

    after_business_days: int
    notify: tuple[str, ...]
    then: str | None = None


@dataclass(frozen=True)
class State:
    """One state of a state machine (an approval stage or a work item status).

    Attributes:
        name: identifier, e.g. ``technical_review``.
        label: human name for tables and messages.
        final: no transition may leave it.
        reviewers: roles that review a record in this stage (workflow
            stages only); transitions from the stage that name no roles use them.
        due_in_days: days a record may stay in this stage before it is overdue
            (workflow stages only; docs/design.md §3, §7).
        sign_off: an n-of-m sign-off stage (``SignOff``), else ``None``.
        escalate: what happens when a record stays too long (``Escalation``).
    """

    name: str
    label: str
    final: bool = False
    reviewers: tuple[str, ...] = ()
    due_in_days: int | None = None
    sign_off: SignOff | None = None
    escalate: Escalation | None = None


@dataclass(frozen=True)
class Transition:
    """One edge of a state machine, one per source state.

    Attributes:
        trigger: event name, e.g. ``approve``.
        source: the state it leaves.
        dest: the state it enters.
        roles: roles allowed to fire it (workflows only; already resolved from
            the source stage's reviewers when the file names none).
        comment_required: firing it needs a non-empty comment.
        effects: side effects to run in the same transaction, by registry name.
        when: the condition on the record's fields under which this edge is
            the one taken (``workflow.conditions``); several edges may share a
            (trigger, source) when all but the last have one: the first whose
            condition holds is taken, else the last (docs/design.md §6).
    """

    trigger: str
    source: str
    dest: str
    roles: tuple[str, ...] = ()
    comment_required: bool = False
    effects: tuple[str, ...] = ()
    when: Condition | None = None


@dataclass(frozen=True)
class MachineRules:
    """States and transitions of one workflow, as data (transitions' habit).

    Attributes:
        name: workflow name, e.g. ``ppa_approval``.
        initial: state new records start in.
        states: state name -> ``State``, in file order.
        transitions: every edge; one per (trigger, source), or several
            chosen between by their ``when`` conditions.
    """

    name: str
    initial: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger name, in file order, without repeats."""
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))

    def transition_from(self, trigger: str, source: str, facts=None) -> Transition | None:
        """The edge ``trigger`` takes from ``source`` for a record with the
        field values ``facts`` (the first whose ``when`` holds, else the
        unconditional one), or ``None``. Without ``facts`` no condition holds."""
        for t in self.routes(trigger, source):
            if t.when is None or (facts is not None and t.when.holds(facts)):
                return t
        return None

    def routes(self, trigger: str, source: str) -> tuple[Transition, ...]:
        """Every edge of ``trigger`` from ``source``, in file order (the
        conditional ones first, the unconditional one last)."""
        return tuple(t for t in self.transitions if t.trigger == trigger and t.source == source)


#: The workflow PPAs follow (``workflows/approval.yaml``); other rule files
#: refer to its stages (budget.yaml, wbs_templates.yaml).
PPA_WORKFLOW = "ppa_approval"


@dataclass(frozen=True)
class Role:
    """One role of ``roles.yaml``.

    Attributes:
        name: identifier, e.g. ``technical_reviewer``.
        description: what the role is, in words.
        organization_scoped: the role counts only inside the user's own
            organization (``moa_focal``: their own MOA's PPAs).
        superuser: may fire any transition (recorded as this role), still
            bound by separation of duties; never delegated.
    """

    name: str
    description: str
    organization_scoped: bool = False
    superuser: bool = False


@dataclass(frozen=True)
class RoleRules:
    """The roles vocabulary of a rule set (``roles.yaml``): one list that
    every workflow names its roles from (docs/design.md §6).

    Attributes:
        roles: role name -> ``Role``, in file order.
    """

    roles: Mapping[str, Role]

    def __contains__(self, name: object) -> bool:
        return name in self.roles

    def __iter__(self):
        return iter(self.roles)

    def __len__(self) -> int:
        return len(self.roles)

    @property
    def descriptions(self) -> Mapping[str, str]:
        """Role name -> description."""
        return frozen_map({name: role.description for name, role in self.roles.items()})

    @property
    def superuser_roles(self) -> tuple[str, ...]:
        """Roles that may fire any transition (``admin``)."""
        return tuple(name for name, role in self.roles.items() if role.superuser)

    @property
    def organization_scoped_roles(self) -> tuple[str, ...]:
        """Roles that count only inside the user's own organization (``moa_focal``)."""
        return tuple(name for name, role in self.roles.items() if role.organization_scoped)


#: The three forms of a separation-of-duties rule (docs/design.md §6).
DUTY_FORMS = ("whoever_fired", "one_step_per_person", "preparer_may_not_fire")


@dataclass(frozen=True)
class DutyRule:
    """One separation-of-duties rule of a workflow file.

    Attributes:
        form: ``whoever_fired`` (whoever fired any of ``after`` on a record
            may not fire ``triggers`` on it), ``one_step_per_person`` (one
            person fires at most one step, a trigger from one stage, of
            ``triggers`` on the same record) or ``preparer_may_not_fire``
            (the record's preparer may not fire ``triggers``).
        triggers: the triggers the rule restricts.
        after: ``whoever_fired`` only: the triggers whose firers it excludes.
        explain: the refusal in the author's words, with ``{record}`` (and
            ``{stages}``, ``{triggers}`` in ``one_step_per_person``); ``None``
            for the default sentence.
    """

    form: str
    triggers: tuple[str, ...]
    after: tuple[str, ...] = ()
    explain: str | None = None


@dataclass(frozen=True)
class WorkflowRules:
    """One workflow with people on its edges (a file in ``workflows/``):
    the PPA approval, and later budget proposals, ORS, DV, community needs.

    Attributes:
        name: workflow name (``workflow:``), e.g. ``ppa_approval``.
        record: what it moves, as messages name it (``PPA``).
        records: the plural (``PPAs``).
        machine: stages and transitions.
        roles: the rule set's roles (``roles.yaml``), shared by every workflow.
        separation_of_duties: the rules, in file order.
        file: the file it was read from, relative to the rule set's folder.
    """

    name: str
    record: str
    records: str
    machine: MachineRules
    roles: RoleRules
    separation_of_duties: tuple[DutyRule, ...] = ()
    file: str = ""

    @property
    def superuser_roles(self) -> tuple[str, ...]:
        """``roles.superuser_roles``."""
        return self.roles.superuser_roles


@dataclass(frozen=True)
class TemplateNode:
    """One work item a WBS template generates.

    Attributes:
        title: the work item's title.
        work_type: ``sub_project``, ``activity``, ``task`` or ``subtask``.
        budget_pct: share of the parent's allocation, percent; siblings sum
            to exactly 100.
        duration_pct: share of the parent's date range, percent, laid out in
            sibling order; ``None`` when the level spans the parent's range.
        children: the items under it.
    """

    title: str
    work_type: str
    budget_pct: Decimal
    duration_pct: Decimal | None = None
    children: tuple[TemplateNode, ...] = ()


@dataclass(frozen=True)
class WbsTemplate:
    """A named WBS template (``program``, ``activity``, ``minimal``, ...)."""

    name: str
    label: str
    children: tuple[TemplateNode, ...]


@dataclass(frozen=True)
class TemplateLimits:
    """How big a WBS template may be (``limits`` in ``wbs_templates.yaml``;
    these are the defaults when it says nothing).

    Attributes:
        max_depth: levels of work items below the project (the project is
            level 0; ``program`` uses 2).
        max_items: work items one template generates, the project not counted.
    """

    max_depth: int = 4
    max_items: int = 200


@dataclass(frozen=True)
class WbsRules:
    """WBS templates and structure rules (``wbs_templates.yaml``).

    Attributes:
        templates: name -> template.
        category_defaults: PPA category -> template name.
        allowed_children: work type -> work types allowed directly under it.
        tracking_not_in_stages: approval stages in which tracking cannot be
            enabled (draft, rejected).
        limits: the size every template was checked against.
    """

    templates: Mapping[str, WbsTemplate]
    category_defaults: Mapping[str, str]
    allowed_children: Mapping[str, tuple[str, ...]]
    tracking_not_in_stages: tuple[str, ...] = ()
    limits: TemplateLimits = TemplateLimits()

    def template_for(self, category: str, name: str | None = None) -> WbsTemplate:
        """The template ``name``, else the default of ``category``.

        Raises:
            KeyError: ``name`` is not a template.
        """
        return self.templates[name or self.category_defaults[category]]


@dataclass(frozen=True)
class PpaStatusSync:
    """What a work item status means for the PPA: its status and an
    optional flag (``at_risk`` keeps the PPA ``ongoing`` but flagged)."""

    status: str
    flag: str | None = None


@dataclass(frozen=True)
class SyncRules:
    """Rollup and sync rules (``sync.yaml``).

    Attributes:
        progress_method: ``average``, ``budget_weighted`` or ``completed_count``.
        work_item_to_ppa: project status -> PPA status (and flag).
        ppa_to_work_item: PPA status -> status of a newly generated project.
        roll_up_status: parents start and complete with their children.
    """

    progress_method: str
    work_item_to_ppa: Mapping[str, PpaStatusSync]
    ppa_to_work_item: Mapping[str, str]
    roll_up_status: bool = True


#: What a remark rule of the MFBM report may judge, each in percent (docs/design.md §8):
#: obligations / allotments, disbursements / obligations, allotments / appropriation,
#: the PPA's physical progress, and the obligation rate minus physical progress (points).
REMARK_MEASURES = ("obligation_rate", "disbursement_rate", "release_rate", "physical_progress", "progress_gap")


@dataclass(frozen=True)
class RemarkRule:
    """One remark rule of the MFBM Budget Execution Report: ``remark``
    when ``measure`` (percent, ``REMARK_MEASURES``) is strictly below
    ``below`` or strictly above ``above`` (exactly one is set)."""

    measure: str
    remark: str
    below: Decimal | None = None
    above: Decimal | None = None

    def applies(self, value: Decimal | None) -> bool:
        """Whether the rule fires for ``value`` (``None``: not measurable, never fires)."""
        if value is None:
            return False
        return value < self.below if self.below is not None else value > self.above


@dataclass(frozen=True)
class ReportRemarks:
    """The MFBM Budget Execution Report's rules (``budget.yaml``
    ``report_remarks``; docs/design.md §8).

    Attributes:
        enacted_stages: approval stages whose PPAs are on the main sheet;
            every other PPA of the year is on the "Pipeline" sheet.
        rules: the remark rules, in the order their remarks are written.
        no_allotment: the remark of a row with nothing allotted yet (no
            rule is judged then).
        otherwise: the remark when no rule fires.
    """

    enacted_stages: tuple[str, ...]
    rules: tuple[RemarkRule, ...]
    no_allotment: str
    otherwise: str

    def remark(self, measures: dict[str, Decimal | None], allotted: bool) -> str:
        """The remark of one row: ``no_allotment`` when nothing is allotted;
        else the remarks of every rule that fires, joined by "; ", or ``otherwise``."""
        if not allotted:
            return self.no_allotment
        found = [rule.remark for rule in self.rules if rule.applies(measures.get(rule.measure))]
        return "; ".join(dict.fromkeys(found)) or self.otherwise


@dataclass(frozen=True)
class BudgetRules:
    """Budget thresholds (``budget.yaml``).

    Attributes:
        on_budget_threshold_pct: |variance %| at or below which an item is
            on budget (percent).
        weights_tolerance: how far the weights of a weighted distribution may
            sum from 1.
        alert_severities: alert type -> severity.
        allotments_need_stage: the approval stage a PPA must be in before
            allotments are released against it (``enacted``).
        remarks: thresholds of the MFBM report's remarks.
        pv_method, eac_method: how earned value plans value within an item's
            dates and forecasts the estimate at completion
            (``workflow.earned_value.PV_METHODS``, ``EAC_METHODS``).
        spi_alert_below, cpi_alert_below: an SPI or CPI strictly below
            these raises an alert (``None``: never).
    """

    on_budget_threshold_pct: Decimal
    weights_tolerance: Decimal
    alert_severities: Mapping[str, str] = field(default_factory=dict)
    allotments_need_stage: str | None = None
    remarks: ReportRemarks | None = None
    pv_method: str = "linear"
    eac_method: str = "cpi"
    spi_alert_below: Decimal | None = None
    cpi_alert_below: Decimal | None = None


@dataclass(frozen=True)
class ScheduledJob:
    """A job run on a cron schedule.

    Attributes:
        name: the job kind (a function of ``jobs.registry``).
        cron: five-field cron expression, read in the schedule's time zone.
    """

    name: str
    cron: str


@dataclass(frozen=True)
class ScheduleRules:
    """Background job schedule and calendar (``schedule.yaml``).

    Attributes:
        timezone: IANA name the cron expressions and due dates are read in.
        business_days: due dates skip weekends and the non-working days of
            the calendar files (``RuleSet.calendar``).
        reminder_days_before: remind when a stage is due within this many days.
        retry_intervals: seconds between retries of a failed job.
        jobs: the cron entries.
    """

    timezone: str
    business_days: bool
    reminder_days_before: int
    retry_intervals: tuple[int, ...]
    jobs: tuple[ScheduledJob, ...]


@dataclass(frozen=True)
class FundClusters:
    """Fund clusters (``fund_clusters.yaml``; COA-DBM-DOF JC 2013-1).

    Attributes:
        names: two-digit code (``01``) -> name (``Regular Agency Fund``).
    """

    names: Mapping[str, str]


@dataclass(frozen=True)
class PrivacyRules:
    """What ppaflow tells people about their personal data and how long it
    keeps it (``needs.yaml`` ``privacy``; Data Privacy Act of 2012, RA 10173;
    issue 15 item 7, docs/design.md §14).

    Attributes:
        notice_version: the version of the privacy notice a person consents
            to when raising a need (stored on the need with ``consent_at``).
        notice: the notice in a few sentences, shown on the public pages and
            in the public API's ``privacy_notice``.
        retention_years: whole years after which ``ppaflow privacy purge``
            detaches needs and votes from the people who raised or cast them
            (the counts stay).
    """

    notice_version: str = "1"
    notice: str = ("ppaflow records who raised a need and who voted, with their consent, only to run the "
                   "participatory budget; it never shows their names or contact details publicly.")
    retention_years: int = 5


@dataclass(frozen=True)
class NeedRules:
    """The vocabularies of community needs (``needs.yaml``; docs/design.md §14).

    Attributes:
        categories, urgencies, submission_types: name -> label (urgencies
            most pressing first).
        stakeholder_types: name -> label.
        weights: stakeholder type -> the weight of its users' votes (1-100).
        privacy: the privacy notice and retention period (``privacy``; the
            defaults of ``PrivacyRules`` for a needs.yaml written without one).
        vote_milestones: vote counts at which the MOA a need was forwarded
            to is notified (``vote_milestones``, ascending; issue 15 item 2).
    """

    categories: Mapping[str, str]
    urgencies: Mapping[str, str]
    submission_types: Mapping[str, str]
    stakeholder_types: Mapping[str, str]
    weights: Mapping[str, int]
    privacy: PrivacyRules = PrivacyRules()
    vote_milestones: tuple[int, ...] = (10, 50, 100)


#: The focal persons of a MOA when goals.yaml has no ``coordination`` block
#: (issue 15 item 6: primary, alternate and technical).
DEFAULT_FOCAL_PERSON_KINDS = {"primary": "Primary focal person", "alternate": "Alternate focal person",
                              "technical": "Technical focal person"}


@dataclass(frozen=True)
class GoalRules:
    """Strategic goals, policies and the public PPA page (``goals.yaml``;
    docs/design.md §16).

    Attributes:
        goal_statuses, policy_statuses: name -> label (the first is a new
            record's).
        progress: how a goal's progress follows from its PPAs'
            (``budget_weighted`` or ``average``).
        public_stages: approval stages whose PPAs anyone may read.
        public_fields: what of such a PPA the public page shows.
        focal_person_kinds: name -> label of a MOA's focal persons
            (``coordination.focal_person_kinds``; docs/design.md §16
            "Focal persons and coordination meetings", issue 15 item 6).
        report_lead_days: how many calendar days before a coordination
            meeting its pre-meeting report is due by default
            (``coordination.report_lead_days``).
    """

    goal_statuses: Mapping[str, str]
    policy_statuses: Mapping[str, str]
    progress: str
    public_stages: tuple[str, ...]
    public_fields: tuple[str, ...]
    focal_person_kinds: Mapping[str, str] = field(default_factory=lambda: frozen_map(DEFAULT_FOCAL_PERSON_KINDS))
    report_lead_days: int = 7


@dataclass(frozen=True)
class Places:
    """The PSGC places a need may name (``psgc_barmm.yaml``; docs/design.md §14).

    Attributes:
        provinces: 10-digit PSGC code -> name (Cotabato City and the Special
            Geographic Area included, as the PSGC lists them).
        municipalities: 10-digit code -> (name, its province's code).
    """

    provinces: Mapping[str, str]
    municipalities: Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class ObjectCodeClasses:
    """UACS object-code prefixes by allotment class (``uacs_object_codes.yaml``).

    Attributes:
        prefixes: digits the object code starts with (``502``) -> allotment
            class (``ps``, ``mooe``, ``finex``, ``co``).
    """

    prefixes: Mapping[str, str]

    def class_of(self, code: str) -> str | None:
        """The allotment class of UACS object code ``code`` (``50202010-01``,
        dashes ignored) by its longest matching prefix; ``None`` when no
        prefix matches."""
        digits = code.replace("-", "")
        matches = [p for p in self.prefixes if digits.startswith(p)]
        return self.prefixes[max(matches, key=len)] if matches else None


@dataclass(frozen=True)
class RuleFile:
    """One loaded rule file: its path relative to the rule set's folder
    (``roles.yaml``, ``workflows/approval.yaml``), the SHA-256 of its bytes,
    and the bytes themselves."""

    name: str
    sha256: str
    content: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class RuleSet:
    """Every rule ppaflow runs on, validated as a whole.

    Attributes:
        roles: the roles vocabulary (``roles.yaml``).
        workflows: workflow name -> workflow (``workflows/*.yaml``).
        work_item_status: the work item status machine.
        wbs: WBS templates and work type rules.
        sync: progress rollup and status mapping.
        budget: budget thresholds and alert severities.
        schedule: background job schedule, time zone and reminders.
        calendar: the non-working days business days skip, by year
            (``calendar/<year>.yaml``; docs/design.md §7).
        validity: until when each fiscal year's appropriations may be
            released, obligated and disbursed (``validity.yaml``).
        fund_clusters: the fund clusters a program budget may name.
        uacs_object_codes: object-code prefixes by allotment class.
        needs: the vocabularies of community needs (``needs.yaml``).
        psgc_barmm: the places a need may name (``psgc_barmm.yaml``).
        goals: strategic goals, policies and the public PPA page (``goals.yaml``).
        scenarios: the budget scenarios' objective, funding and constraints
            (``scenarios.yaml``, optional; ``rules.kinds.scenarios``).
        feedback: the photo limits of community feedback (``feedback.yaml``,
            optional; ``rules.kinds.feedback``).
        hash: SHA-256 over every file's name and bytes; recorded on each
            transition it governs (docs/design.md §6).
        files: the files it was loaded from.
        warnings: what ``rules check`` should tell the author although the
            set loads (``file:line: message``): a key no longer read.
    """

    roles: RoleRules
    workflows: Mapping[str, WorkflowRules]
    work_item_status: MachineRules
    wbs: WbsRules
    sync: SyncRules
    budget: BudgetRules
    schedule: ScheduleRules
    calendar: Calendar
    validity: ValidityRules
    fund_clusters: FundClusters
    uacs_object_codes: ObjectCodeClasses
    needs: NeedRules
    psgc_barmm: Places
    goals: GoalRules
    scenarios: Any
    feedback: Any
    hash: str
    files: tuple[RuleFile, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def approval(self) -> WorkflowRules:
        """The PPA approval workflow (``PPA_WORKFLOW``)."""
        return self.workflows[PPA_WORKFLOW]
