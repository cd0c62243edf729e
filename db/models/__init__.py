"""Every model, importable from one place, which of them are audited, and
the expressions that need several of them."""

from sqlalchemy import BigInteger, case, func, or_, select, type_coerce
from sqlalchemy.orm import aliased, column_property

from db import audit
from db.audit import AuditEntry
from db.models.alert import Alert, Notification
from db.models.attachment import Attachment
from db.models.calendar_feed import CalendarFeed
from db.models.budget import (
    Allotment,
    AllotmentAdjustment,
    AppropriationAdjustment,
    BudgetJustification,
    BudgetLineItem,
    BudgetProposal,
    Delivery,
    Disbursement,
    DocumentNumberSeries,
    ExecutionPlanLine,
    Obligation,
    ObligationAdjustment,
    ProgramBudget,
    SubAllotment,
)
from db.models.coordination import CoordinationMeeting, FocalPerson
from db.models.feedback import NeedFeedback
from db.models.goal import GoalPolicy, GoalPpa, PlanningCycle, Policy, StrategicGoal
from db.models.idempotency import IdempotencyKey
from db.models.job import JobRecord
from db.models.need import Need, NeedVote, PpaNeed
from db.models.people import ApiToken, Organization, User, UserRole
from db.models.period import OpeningBalance, PeriodClosure, PeriodClosureSignature, PeriodSnapshotLine
from db.models.ppa import Ppa, PpaTransition
from db.models.rule_set import StoredRuleSet
from db.models.scenario import Scenario, ScenarioAllocation
from db.models.schedule import EvBaseline, EvBaselineItem, WorkItemDependency
from db.models.web_session import WebSession
from db.models.work_item import WorkItem
from db.models.workflow import Delegation, WorkflowTransition
from db.types import Money

__all__ = ["Alert", "Allotment", "AllotmentAdjustment", "AppropriationAdjustment", "Attachment", "CalendarFeed", "ApiToken",
           "AuditEntry", "BudgetJustification", "CoordinationMeeting", "FocalPerson", "BudgetLineItem", "BudgetProposal", "Delegation", "Delivery", "Disbursement",
           "DocumentNumberSeries", "EvBaseline", "EvBaselineItem", "ExecutionPlanLine", "GoalPolicy", "GoalPpa",
           "PlanningCycle", "Policy", "StrategicGoal", "IdempotencyKey", "JobRecord", "Need", "NeedFeedback", "NeedVote", "PpaNeed",
           "Notification", "Obligation", "ObligationAdjustment", "OpeningBalance", "Organization", "PeriodClosure",
           "PeriodClosureSignature", "PeriodSnapshotLine", "Ppa", "PpaTransition",
           "ProgramBudget", "Scenario", "ScenarioAllocation", "StoredRuleSet", "SubAllotment", "User", "UserRole",
           "WebSession", "WorkItem", "WorkItemDependency", "WorkflowTransition"]


def _ppa_organization(session, ppa_id):
    ppa = session.get(Ppa, ppa_id) if ppa_id is not None else None
    return ppa.organization_id if ppa is not None else None


def _work_item_organization(session, item):
    root = item if item.root_id is None else session.get(WorkItem, item.root_id)
    return _ppa_organization(session, root.ppa_id) if root is not None else None


def _user_organization(session, user_id):
    user = session.get(User, user_id) if user_id is not None else None
    return user.organization_id if user is not None else None


def _program_budget_organization(session, program_budget_id):
    program_budget = session.get(ProgramBudget, program_budget_id)
    return _ppa_organization(session, program_budget.ppa_id) if program_budget is not None else None


audit.register(Ppa, "ppa", lambda s, o: o.organization_id)
# Administration, not a MOA's own records: only those who see every organization read these rows.
audit.register(Organization, "organization", lambda s, o: None)
audit.register(WorkItem, "work_item", _work_item_organization)
audit.register(BudgetProposal, "budget_proposal", lambda s, o: o.organization_id)
audit.register(ProgramBudget, "program_budget", lambda s, o: _ppa_organization(s, o.ppa_id))
audit.register(BudgetJustification, "budget_justification",
               lambda s, o: _program_budget_organization(s, o.program_budget_id))
audit.register(BudgetLineItem, "budget_line_item", lambda s, o: _program_budget_organization(s, o.program_budget_id))
audit.register(Allotment, "allotment", lambda s, o: o.organization_id)
audit.register(Obligation, "obligation", lambda s, o: o.organization_id)
audit.register(Disbursement, "disbursement", lambda s, o: o.organization_id)
audit.register(AllotmentAdjustment, "allotment_adjustment", lambda s, o: o.organization_id)
audit.register(ObligationAdjustment, "obligation_adjustment", lambda s, o: o.organization_id)
audit.register(AppropriationAdjustment, "appropriation_adjustment", lambda s, o: o.organization_id)
audit.register(SubAllotment, "sub_allotment", lambda s, o: o.organization_id)
audit.register(Delivery, "delivery", lambda s, o: o.organization_id)
audit.register(ExecutionPlanLine, "execution_plan_line", lambda s, o: _ppa_organization(s, o.ppa_id))
audit.register(Attachment, "attachment", lambda s, o: o.organization_id)
audit.register(PeriodClosure, "period_closure", lambda s, o: o.organization_id)
audit.register(PeriodClosureSignature, "period_closure_signature",
               lambda s, o: s.get(PeriodClosure, o.closure_id).organization_id)
audit.register(OpeningBalance, "opening_balance", lambda s, o: o.organization_id)
audit.register(FocalPerson, "focal_person", lambda s, o: o.organization_id)
audit.register(Delegation, "delegation", lambda s, o: _user_organization(s, o.delegator_id))


def _actual_expenditure():
    """A PPA's actual expenditure (issue 5), in centavos: the rolled-up work
    item expenditure when tracking is on (the sum over its whole tree), else
    its disbursements that are not voided."""
    root = aliased(WorkItem)
    tracked = (select(func.coalesce(func.sum(type_coerce(WorkItem.actual_expenditure, BigInteger)), 0))
               .join(root, or_(WorkItem.id == root.id, WorkItem.root_id == root.id))
               .where(root.ppa_id == Ppa.id).scalar_subquery())
    disbursed = (select(func.coalesce(func.sum(type_coerce(Disbursement.amount, BigInteger)), 0))
                 .join(Obligation, Disbursement.obligation_id == Obligation.id)
                 .join(Allotment, Obligation.allotment_id == Allotment.id)
                 .join(ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)
                 .where(ProgramBudget.ppa_id == Ppa.id, Disbursement.active).scalar_subquery())
    return type_coerce(case((Ppa.enable_workitem_tracking.is_(True), tracked), else_=disbursed), Money)


#: Loaded only when asked for (``undefer(Ppa.actual_expenditure)``): two
#: correlated sums that most reads do not need.
Ppa.actual_expenditure = column_property(_actual_expenditure(), deferred=True)
