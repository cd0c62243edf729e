"""PPA use cases: create, read, list, edit (docs/design.md §3, §5).

Content fields (title, budget, dates, ...) are editable only while the PPA is
in the workflow's initial stage (``draft``); execution fields (status,
progress, sync flags) at any stage. Every write checks ``If-Match`` when
given and locks the row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, BindParameter, Integer, Select, bindparam, case, func, select, type_coerce
from sqlalchemy.orm import undefer

from db import db
from db.models import Organization, Ppa, ProgramBudget, User
from db.types import utcnow
from services.access import (
    Reach,
    can_edit_ppas_of,
    can_see_ppa,
    is_superuser,
    visible_clause,
    visible_organizations_of,
    visible_rows,
)
from services.concurrency import check_if_match
from services.runtime import get_runtime
from services.trees import apply_allocations, load_tree, require_unlocked, settle
from services.unit_of_work import transaction
from services.users import get_organization_or_raise
from workflow.errors import AdjustmentRequired, Conflict, Forbidden, NotEditable, NotFound, ValidationFailed
from workflow.money import from_centavos, to_centavos

#: Fields that describe what the PPA is; editable only in the initial stage.
CONTENT_FIELDS = frozenset({
    "title", "summary", "category", "program_code", "implementing_moa", "fiscal_year", "sector",
    "funding_source", "appropriation_class", "priority", "start_date", "target_end_date",
    "budget_allocation", "wbs_template", "budget_distribution_policy",
})
#: Fields that report execution; editable at any stage.
EXECUTION_FIELDS = frozenset({"status", "progress", "auto_sync_progress", "auto_sync_status"})
#: What a program budget appropriates (API field -> column): once one exists,
#: these change only through a budget adjustment (issue 10; issue 12 builds
#: adjustments), so an enacted appropriation never moves to another year's
#: FAR No. 1 or another MOA's books by an edit of the PPA. The
#: appropriation class is then derived from the program budgets' class
#: amounts (docs/design.md §12, "Appropriations").
APPROPRIATED_FIELDS = {"fiscal_year": "fiscal_year", "implementing_moa": "organization_id",
                       "budget_allocation": "budget_allocation", "appropriation_class": "appropriation_class"}


@dataclass(frozen=True)
class PpaFilters:
    """Filters of ``GET /api/monitoring-entries`` (all optional)."""

    fiscal_year: int | None = None
    approval_status: str | None = None
    status: str | None = None
    category: str | None = None
    moa: str | None = None
    q: str | None = None


def get_ppa(user: User, ppa_id: int, *, for_update: bool = False, with_expenditure: bool = False) -> Ppa | None:
    """The PPA ``ppa_id`` if ``user`` may see it, else ``None``.

    Args:
        for_update: lock the row until the transaction ends (PostgreSQL
            ``SELECT ... FOR UPDATE``; SQLite serialises writers anyway) and
            re-read it, so the caller decides on the committed state.
        with_expenditure: load ``actual_expenditure`` (two sums) in the same
            query, for a caller that shows it; otherwise it loads on first use.
    """
    ppa = db.session.scalar(_ppa_query(for_update, with_expenditure and not for_update), {"ppa_id": ppa_id})
    if ppa is None or not can_see_ppa(user, ppa):
        return None
    return ppa


@functools.cache
def _ppa_query(for_update: bool, with_expenditure: bool) -> Select:
    """``get_ppa``'s statement for the PPA ``:ppa_id`` (built once per
    process for each pair of options: most requests run one)."""
    query = select(Ppa).where(Ppa.id == bindparam("ppa_id"))
    if for_update:
        query = query.with_for_update(of=Ppa).execution_options(populate_existing=True)
    elif with_expenditure:
        query = query.options(undefer(Ppa.actual_expenditure))
    return query


def get_ppa_or_raise(user: User, ppa_id: int, *, for_update: bool = False, with_expenditure: bool = False) -> Ppa:
    """The PPA ``ppa_id`` if ``user`` may see it (arguments as ``get_ppa``).

    Raises:
        NotFound: it does not exist or is not visible to ``user``.
    """
    ppa = get_ppa(user, ppa_id, for_update=for_update, with_expenditure=with_expenditure)
    if ppa is None:
        raise NotFound(f"PPA {ppa_id} not found")
    return ppa


def committed_ppa(ppa_id: int) -> Ppa:
    """PPA ``ppa_id`` as committed, with ``actual_expenditure``, in one
    statement: the answer of a write (a transition, a create), whose commit
    expired the row. Read on first use instead, it would take one statement
    for the row and one more for the expenditure. The caller checked that
    the user may see it. The statement is built once per process."""
    return db.session.scalar(_committed_ppa_query(), {"ppa_id": ppa_id})


@functools.cache
def _committed_ppa_query() -> Select:
    """``committed_ppa``'s statement for the PPA ``:ppa_id``."""
    return (select(Ppa).where(Ppa.id == bindparam("ppa_id")).options(undefer(Ppa.actual_expenditure))
            .execution_options(populate_existing=True))


def find_ppa(organization_id: int, fiscal_year: int, title: str) -> Ppa | None:
    """The PPA of an organization with this title in this fiscal year, or
    ``None`` (used to load examples only once)."""
    return db.session.scalar(select(Ppa).where(
        Ppa.organization_id == organization_id, Ppa.fiscal_year == fiscal_year, Ppa.title == title))


#: The orders a list of PPAs can be sorted in (``list_ppas``' ``sort``): name -> what is compared.
SORTS = ("id", "title", "moa", "fiscal_year", "stage", "status", "budget", "updated")


def _sort_key(name: str):
    """The column (or expression) a sort name compares: the stage in the
    workflow's order (rules/default/workflows/approval.yaml), not alphabetically."""
    if name == "stage":
        order = {stage: index for index, stage in enumerate(get_runtime().rules.approval.machine.states)}
        return case(order, value=Ppa.approval_status, else_=len(order))
    return {"id": Ppa.id, "title": func.lower(Ppa.title), "moa": Organization.code, "fiscal_year": Ppa.fiscal_year,
            "status": Ppa.status, "budget": Ppa.budget_allocation, "updated": Ppa.updated_at}[name]


def list_ppas(user: User, filters: PpaFilters, sort: str | None = None) -> Select:
    """A query of the PPAs ``user`` may see matching ``filters`` (the
    caller paginates it).

    Args:
        sort: one of ``SORTS``, ascending, or with a leading ``-``
            descending (``-budget``); ties in PPA id order. Default: newest
            first (``-id``).

    Raises:
        ValidationFailed: ``sort`` is not one of them.
    """
    query = _where_listed(select(Ppa).options(undefer(Ppa.actual_expenditure)), visible_organizations_of(user),
                          _present(filters), bool(filters.moa), lambda name: getattr(filters, name))
    if filters.q:
        # Literal words: % and _ in q match themselves, not any text (LIKE escaped).
        query = query.where(Ppa.title.icontains(filters.q, autoescape=True))
    name = (sort or "-id").removeprefix("-")
    if name not in SORTS:
        raise ValidationFailed({"sort": [f"must be one of {', '.join(SORTS)}, or one of them after '-'"]})
    descending = (sort or "-id").startswith("-")
    if name == "moa":
        query = query.join(Organization, Organization.id == Ppa.organization_id)
    key, tie = _sort_key(name), Ppa.id
    return query.order_by(key.desc() if descending else key.asc(), tie.desc() if descending else tie.asc())


@dataclass(frozen=True)
class PreparedList:
    """A list as ``web.pagination.SQLPage`` pages it: its count and its
    rows as statements built once per shape of the list, with this
    request's values for their parameters (``list_ppas_prepared``).

    Attributes:
        count: ``SELECT count(*)`` of the list.
        page: the list in order, ``:page_size`` rows from row ``:first_item`` (0-based).
        params: the values of the other parameters of both.
    """

    count: Select
    page: Select
    params: Mapping[str, Any]


#: The filters of ``PpaFilters`` that compare a column with the value asked for.
_EQUAL_FILTERS = ("fiscal_year", "approval_status", "status", "category")


def list_ppas_prepared(user: User, filters: PpaFilters) -> PreparedList | Select:
    """``list_ppas(user, filters)`` in its default order (newest first), as
    statements built once per shape of the list (what the user may see,
    which filters are set): ``GET /api/monitoring-entries`` sends it on
    every page, and building the list, its count and its page cost
    SQLAlchemy more than the rest of the request's work beyond
    authentication (issue 17). With ``q``, whose words are escaped into
    the statement, it is ``list_ppas``' query (built per request)."""
    if filters.q:
        return list_ppas(user, filters)
    seen, present = visible_organizations_of(user), _present(filters)
    params = {name: getattr(filters, name) for name in present}
    if filters.moa:
        params["moa"] = filters.moa
    if isinstance(seen, int):
        params["visible_organization_id"] = seen
    count, page = _prepared_list(None if isinstance(seen, int) else seen, present, bool(filters.moa))
    return PreparedList(count, page, params)


def _present(filters: PpaFilters) -> tuple[str, ...]:
    """The equality filters of ``filters`` that are set, in ``_EQUAL_FILTERS`` order."""
    return tuple(name for name in _EQUAL_FILTERS if getattr(filters, name) not in (None, ""))


def _where_listed(query: Select, seen: Reach | int | BindParameter, present: tuple[str, ...], moa: bool,
                  value: Callable[[str], Any]) -> Select:
    """``query`` (of ``Ppa``) narrowed to the rows of ``seen`` (as
    ``access.visible_clause`` takes it), each filter of ``present`` equal to
    ``value(name)``, and with ``moa`` to the organization coded
    ``value("moa")``: the conditions ``list_ppas`` and
    ``list_ppas_prepared`` share, with values or bound parameters."""
    query = query.where(visible_clause(seen, Ppa.organization_id))
    for name in present:
        query = query.where(getattr(Ppa, name) == value(name))
    if moa:
        query = query.where(Ppa.organization_id.in_(select(Organization.id).where(Organization.code == value("moa"))))
    return query


@functools.cache
def _prepared_list(seen: Reach | None, present: tuple[str, ...], moa: bool) -> tuple[Select, Select]:
    """``list_ppas_prepared``'s count and page statements for one shape:
    ``seen`` as ``visible_organizations_of`` answers (``None``: the one
    organization ``:visible_organization_id``), the equality filters
    ``present`` (each ``:<name>``), and with ``moa`` the organization coded
    ``:moa``; the same conditions and order as ``list_ppas``."""
    query = _where_listed(select(Ppa).options(undefer(Ppa.actual_expenditure)),
                          bindparam("visible_organization_id") if seen is None else seen, present, moa, bindparam)
    count = select(func.count()).select_from(query.subquery())
    page = (query.order_by(Ppa.id.desc()).offset(bindparam("first_item", type_=Integer))
            .limit(bindparam("page_size", type_=Integer)))
    return count, page


def each_ppa(query: Select, batch: int = 500) -> Iterator[Ppa]:
    """The PPAs of a ``list_ppas`` query, all of them, read ``batch`` at a time."""
    yield from db.session.scalars(query.execution_options(yield_per=batch))


@dataclass(frozen=True)
class ListTotals:
    """How many PPAs a list holds and their budget allocations summed (PHP)."""

    count: int
    budget: Decimal


def list_totals(query: Select) -> ListTotals:
    """The totals of a ``list_ppas`` query, in one statement (exact:
    centavos summed by the database)."""
    rows = query.order_by(None).options().with_only_columns(Ppa.id, Ppa.budget_allocation).subquery()
    count, centavos = db.session.execute(
        select(func.count(), func.coalesce(func.sum(type_coerce(rows.c.budget_allocation, BigInteger)), 0))).one()
    return ListTotals(count, from_centavos(int(centavos)))


def authoring_organizations(user: User) -> list[Organization]:
    """The organizations ``user`` may create PPAs for (``create_ppa``):
    every one for a superuser, their own for a MOA focal person, none for
    anyone else (docs/design.md §3)."""
    if is_superuser(user):
        return list(db.session.scalars(select(Organization).order_by(Organization.code)))
    if user.organization_id is not None and can_edit_ppas_of(user, user.organization_id):
        return [user.organization]
    return []


def visible_organizations(user: User) -> list[Organization]:
    """The organizations whose PPAs ``user`` may see, by code (to filter by)."""
    return list(db.session.scalars(select(Organization).where(visible_rows(user, Organization.id))
                                   .order_by(Organization.code)))


def is_editable(user: User, ppa: Ppa) -> bool:
    """True when ``user`` may change ``ppa``'s content now: it is in the
    workflow's initial stage and ``user`` edits its MOA's PPAs
    (docs/design.md §3). ``update_ppa`` decides the same on the locked row."""
    return (ppa.approval_status == get_runtime().rules.approval.machine.initial
            and can_edit_ppas_of(user, ppa.organization_id))


@dataclass(frozen=True)
class LastChange:
    """Who saved a PPA last and when (the ETag's version)."""

    username: str | None
    full_name: str | None
    at: datetime
    etag: str


def last_change(user: User, ppa_id: int) -> LastChange:
    """Who saved PPA ``ppa_id`` last, when, and its current ETag, read afresh
    (for a form refused as stale: "X saved at T").

    Raises:
        NotFound: not visible to ``user``.
    """
    db.session.expire_all()
    ppa = get_ppa_or_raise(user, ppa_id)
    author = db.session.get(User, ppa.updated_by_id) if ppa.updated_by_id is not None else None
    return LastChange(author.username if author else None, author.full_name if author else None,
                      ppa.updated_at, ppa.etag)


def create_ppa(user: User, fields: Mapping[str, Any]) -> Ppa:
    """Create a PPA in the workflow's initial stage.

    Args:
        user: the author; MOA focal persons create for their own MOA,
            superusers for any.
        fields: typed values (``Decimal`` budget, ``date`` dates) of the
            schema ``PpaCreate``; ``implementing_moa`` is an organization
            code and defaults to the author's organization.

    Returns:
        The new PPA (committed).

    Raises:
        ValidationFailed: unknown organization or template, dates out of order.
        Forbidden: the user may not create PPAs for that organization.
    """
    values = dict(fields)
    runtime = get_runtime()
    with transaction() as session:
        code = values.pop("implementing_moa", None)
        if code is None:
            if user.organization is None:
                raise ValidationFailed({"implementing_moa": ["required: you belong to no organization"]})
            organization = user.organization
        else:
            organization = get_organization_or_raise(code, field="implementing_moa")
        if not can_edit_ppas_of(user, organization.id):
            raise Forbidden(f"you may not create PPAs for {organization.code}")
        _validate(values)
        ppa = Ppa(**values, organization_id=organization.id,
                  approval_status=runtime.rules.approval.machine.initial,
                  stage_entered_at=utcnow(), created_by_id=user.id, updated_by_id=user.id)
        session.add(ppa)
        session.flush()
        ppa_id = ppa.id
    return committed_ppa(ppa_id)


def update_ppa(user: User, ppa_id: int, changes: Mapping[str, Any], *, if_match: str | None = None) -> Ppa:
    """Change some fields of a PPA (``PATCH``).

    Raises:
        NotFound: not visible to ``user``.
        PreconditionFailed: ``if_match`` is stale.
        Forbidden: ``user`` may not edit this MOA's PPAs.
        NotEditable: content fields outside the initial stage.
        AdjustmentRequired: fiscal year, implementing MOA or budget of a
            PPA that has a program budget.
        ValidationFailed: invalid values (per field).
    """
    values = dict(changes)
    initial = get_runtime().rules.approval.machine.initial
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id, for_update=True)
        if not can_edit_ppas_of(user, ppa.organization_id):
            raise Forbidden("only the MOA's focal persons and administrators edit a PPA")
        check_if_match(if_match, ppa.etag)
        content = sorted(values.keys() & CONTENT_FIELDS)
        if content and ppa.approval_status != initial:
            raise NotEditable(
                f"{', '.join(content)} can only change while the PPA is in {initial}; "
                f"it is in {ppa.approval_status}", fields=content)
        if "implementing_moa" in values:
            values["organization_id"] = get_organization_or_raise(
                values.pop("implementing_moa"), field="implementing_moa").id
            if not can_edit_ppas_of(user, values["organization_id"]):
                raise Forbidden("you may not move a PPA to another organization")
        merged = {"start_date": ppa.start_date, "target_end_date": ppa.target_end_date} | values
        _validate(merged)
        _require_no_program_budget(ppa, values)
        tracked = ppa.execution_project_id is not None
        if tracked:
            _check_not_synced(ppa, values)
        for name, value in values.items():
            setattr(ppa, name, value)
        ppa.updated_by_id = user.id
        if tracked and "budget_allocation" in values:
            # The project's allocation is the PPA's budget; the WBS follows in proportion.
            tree = load_tree(ppa.execution_project_id, rolled=False)
            require_unlocked(tree)
            apply_allocations(session, ppa, tree, {tree.root.id: to_centavos(ppa.budget_allocation)})
            settle(session, ppa, tree)
    return ppa


def _require_no_program_budget(ppa: Ppa, values: Mapping[str, Any]) -> None:
    """Refuse changing what a program budget appropriates (``APPROPRIATED_FIELDS``).

    Args:
        values: the changes, with ``organization_id`` already resolved from
            ``implementing_moa``; a field sent with its current value is no change.

    Raises:
        AdjustmentRequired: the PPA has a program budget; ``fields`` names
            the request's fields that would change.
    """
    changed = [field for field, column in APPROPRIATED_FIELDS.items()
               if column in values and values[column] != getattr(ppa, column)]
    if not changed:
        return
    program_budget = db.session.scalar(select(ProgramBudget).where(ProgramBudget.ppa_id == ppa.id)
                                       .order_by(ProgramBudget.id).limit(1))
    if program_budget is not None:
        raise AdjustmentRequired(
            f"{' and '.join(changed)} of PPA {ppa.id} cannot be edited: program budget {program_budget.id} "
            f"appropriates it in the FY {program_budget.proposal.fiscal_year} budget proposal of "
            f"{program_budget.proposal.organization.code}; only a budget adjustment may change it", fields=changed)


def _check_not_synced(ppa: Ppa, values: Mapping[str, Any]) -> None:
    """Progress and status that follow the execution project cannot be set by hand.

    Raises:
        Conflict: ``follows_execution_project``.
    """
    synced = [name for name, flag in (("progress", "auto_sync_progress"), ("status", "auto_sync_status"))
              if name in values and values.get(flag, getattr(ppa, flag))]
    if synced:
        raise Conflict(f"{' and '.join(synced)} follow the execution project while auto-sync is on; "
                       "record progress on the work items, or turn auto-sync off", code="follows_execution_project")


def _validate(values: Mapping[str, Any]) -> None:
    """Domain checks beyond the schema: dates in order, WBS template known."""
    errors: dict[str, list[str]] = {}
    templates = get_runtime().rules.wbs.templates
    if values.get("wbs_template") is not None and values["wbs_template"] not in templates:
        errors["wbs_template"] = [f"unknown template {values['wbs_template']!r}; known: {', '.join(templates)}"]
    start, end = values.get("start_date"), values.get("target_end_date")
    if start is not None and end is not None and end < start:
        errors["target_end_date"] = [f"must be on or after start_date ({start.isoformat()})"]
    if errors:
        raise ValidationFailed(errors)
