"""Strategic goals of the development plan, policies, planning cycles,
alignment, and the public PPA page (docs/design.md §16; issue 15 items 4-5).

Who may do what (admins may do all):

| action | roles |
|---|---|
| create and change goals, policies, planning cycles | ``planning_officer`` (BPDA) |
| link a PPA to a goal | ``planning_officer``, or whoever edits the PPA (its MOA) |
| read goals, policies, cycles, alignment | anyone signed in (PPAs scoped as ever) |
| read an enacted PPA's public page | anyone, without an account (``public_ppa``) |

A goal's progress follows from the physical progress of the PPAs linked to
it, by the method of ``goals.yaml`` (``budget_weighted``: each PPA weighs
its budget allocation; ``average``): ``progress_of``. The statuses of goals
and policies are names of ``goals.yaml``; so are the stages whose PPAs are
public and the fields their public page shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Select, func, select, type_coerce

from db import db
from db.models import (
    Attachment,
    GoalPolicy,
    GoalPpa,
    Need,
    Organization,
    PlanningCycle,
    Policy,
    Ppa,
    PpaNeed,
    StrategicGoal,
    User,
)
from db.types import utcnow
from services.access import can_edit_ppas_of, require_role, visible_ppas
from services.budget import spent
from services.concurrency import check_if_match
from services.needs import PUBLISHED
from services.ppas import get_ppa_or_raise
from services.privacy import notice
from services.runtime import get_runtime
from services.unit_of_work import transaction
from services.users import get_organization_or_raise
from workflow.errors import Conflict, Duplicate, NotFound, ValidationFailed
from workflow.money import ZERO, from_centavos

#: Who creates and changes goals, policies and planning cycles (docs/design.md §16).
PLANNERS = ("planning_officer",)

#: The approval stages of PPAs that no longer count for alignment.
NOT_COUNTED = ("rejected",)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def _rules():
    return get_runtime().rules.goals


def _status(value: str | None, known: Mapping[str, str], errors: dict, field: str = "status") -> None:
    if value is not None and value not in known:
        errors[field] = [f"unknown status {value!r} (known: {', '.join(known)})"]


# -- goals --------------------------------------------------------------------------------


def _goal_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a goal from its fields, checked (ValidationFailed per field)."""
    errors: dict[str, list[str]] = {}
    _status(data.get("status"), _rules().goal_statuses, errors)
    values = {k: v for k, v in data.items() if k in ("title", "description", "target_year", "status")}
    if "lead_agency" in data:
        try:
            values["lead_organization_id"] = (get_organization_or_raise(data["lead_agency"], field="lead_agency").id
                                              if data["lead_agency"] else None)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if "indicators" in data:
        values["indicators"] = [{"name": i["name"], "unit": i.get("unit"),
                                 "baseline": str(i["baseline"]) if i.get("baseline") is not None else None,
                                 "target": str(i["target"]) if i.get("target") is not None else None}
                                for i in data["indicators"]]
    if errors:
        raise ValidationFailed(errors)
    return values


def create_goal(user: User, data: Mapping[str, Any]) -> StrategicGoal:
    """A strategic goal of the development plan: title, description, target
    year, lead agency (an organization code), status (``goals.yaml``, the
    first by default) and indicators (``[{name, unit, baseline, target}]``,
    figures ``Decimal``).

    Raises:
        Forbidden: not a planning officer or admin; ValidationFailed: per field.
    """
    with transaction() as session:
        require_role(user, PLANNERS, None, "create a strategic goal")
        values = _goal_values(data)
        values.setdefault("status", next(iter(_rules().goal_statuses)))
        goal = StrategicGoal(**{"description": "", "indicators": []} | values, created_by_id=user.id)
        session.add(goal)
    return goal


def get_goal_or_raise(goal_id: int, *, for_update: bool = False) -> StrategicGoal:
    """The goal ``goal_id`` (``for_update``: locked and re-read).

    Raises:
        NotFound: no such goal.
    """
    return _get(StrategicGoal, goal_id, "strategic goal", for_update)


def _get(model, row_id: int, what: str, for_update: bool = False):
    query = select(model).where(model.id == row_id)
    if for_update:
        query = query.with_for_update(of=model).execution_options(populate_existing=True)
    row = db.session.scalar(query)
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


def update_goal(user: User, goal_id: int, changes: Mapping[str, Any], *, if_match: str | None) -> StrategicGoal:
    """Change a goal's fields (as ``create_goal``'s), with its ETag.

    Raises:
        NotFound, Forbidden, PreconditionFailed (stale ``if_match``), ValidationFailed.
    """
    with transaction():
        require_role(user, PLANNERS, None, "change a strategic goal")
        goal = get_goal_or_raise(goal_id, for_update=True)
        check_if_match(if_match, goal.etag)
        for name, value in _goal_values(changes).items():
            setattr(goal, name, value)
    return goal


def list_goals(status: str | None = None, target_year: int | None = None) -> Select:
    """Every goal, by target year then id (filters optional)."""
    query = select(StrategicGoal)
    if status:
        query = query.where(StrategicGoal.status == status)
    if target_year:
        query = query.where(StrategicGoal.target_year == target_year)
    return query.order_by(StrategicGoal.target_year, StrategicGoal.id)


def link_ppa(user: User, goal_id: int, ppa_id: int) -> GoalPpa:
    """Record that a PPA serves a goal: BPDA's planning officers, or whoever
    edits the PPA (its MOA's focal person).

    Raises:
        NotFound (goal, or a PPA ``user`` may not see), Forbidden,
        Conflict 409 ``already_linked``.
    """
    try:
        with transaction() as session:
            goal = get_goal_or_raise(goal_id)
            ppa = get_ppa_or_raise(user, ppa_id)
            if not can_edit_ppas_of(user, ppa.organization_id):
                require_role(user, PLANNERS, ppa.organization_id, "link a PPA to a strategic goal")
            link = GoalPpa(goal_id=goal.id, ppa_id=ppa.id, linked_by_id=user.id)
            session.add(link)
            session.flush()
    except Duplicate as exc:
        raise Conflict(f"PPA {ppa_id} already serves goal {goal_id}", code="already_linked") from exc
    return link


def goal_ppas(user: User, goal_id: int) -> list[Ppa]:
    """The PPAs serving a goal that ``user`` may see, oldest link first."""
    goal = get_goal_or_raise(goal_id)
    return list(db.session.scalars(select(Ppa).join(GoalPpa, GoalPpa.ppa_id == Ppa.id)
                                   .where(GoalPpa.goal_id == goal.id, visible_ppas(user)).order_by(GoalPpa.id)))


def combine_progress(rows: Iterable[tuple[Decimal, int]], method: str) -> Decimal | None:
    """The progress (percent, ``Decimal`` to 0.01) of a goal from its PPAs'
    ``(budget PHP, progress percent)``: ``budget_weighted`` (each PPA by its
    budget; all equal when the budgets sum to zero) or ``average``
    (goals.yaml ``progress``; docs/design.md §16). ``None`` without PPAs."""
    rows = list(rows)
    if not rows:
        return None
    total = sum((budget for budget, _ in rows), ZERO)
    if method == "budget_weighted" and total > 0:
        value = sum((budget * progress for budget, progress in rows), ZERO) / total
    else:
        value = Decimal(sum(progress for _, progress in rows)) / len(rows)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _counted() -> Any:
    return Ppa.approval_status.not_in(NOT_COUNTED)


def progress_by_goal(user: User, goal_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """goal id -> ``{progress, budget, ppas}`` over the PPAs serving it that
    ``user`` may see (not rejected; a MOA's user sees their MOA's, as
    everywhere), in one aggregate statement; progress by goals.yaml's
    method (``combine_progress``)."""
    ids = list(goal_ids)
    if not ids:
        return {}
    budget = type_coerce(Ppa.budget_allocation, BigInteger)
    rows = db.session.execute(
        select(GoalPpa.goal_id, func.count(Ppa.id), func.sum(budget), func.sum(budget * Ppa.progress),
               func.sum(Ppa.progress))
        .join(Ppa, Ppa.id == GoalPpa.ppa_id).where(GoalPpa.goal_id.in_(ids), _counted(), visible_ppas(user))
        .group_by(GoalPpa.goal_id))
    return {goal_id: _figures(count, centavos, weighted, plain) for goal_id, count, centavos, weighted, plain in rows}


def _figures(count: int, centavos: int | None, weighted: int | None, plain: int | None) -> dict[str, Any]:
    """``{ppas, budget, progress}`` from the sums of one group (the same
    arithmetic as ``combine_progress``, done on the sums)."""
    centavos, weighted, plain = int(centavos or 0), int(weighted or 0), int(plain or 0)
    if not count:
        progress = None
    elif _rules().progress == "budget_weighted" and centavos > 0:
        progress = (Decimal(weighted) / centavos).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        progress = (Decimal(plain) / count).quantize(CENT, rounding=ROUND_HALF_UP)
    return {"ppas": int(count), "budget": from_centavos(centavos), "progress": progress}


def goal_view(user: User, goal: StrategicGoal, figures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A goal as the API shows it to ``user``, with the progress, budget and
    count of the PPAs serving it that they may see (``progress_by_goal``)."""
    figures = figures if figures is not None else progress_by_goal(user, [goal.id]).get(goal.id)
    figures = figures or {"ppas": 0, "budget": ZERO, "progress": None}
    return {"id": goal.id, "title": goal.title, "description": goal.description, "target_year": goal.target_year,
            "lead_agency": goal.lead_organization.code if goal.lead_organization else None,
            "status": goal.status, "indicators": goal.indicators, "version": goal.version, "etag": goal.etag,
            "progress_method": _rules().progress} | figures


def goal_views(user: User, goals: list[StrategicGoal]) -> list[dict[str, Any]]:
    """``goal_view`` of each goal, their figures in one statement."""
    figures = progress_by_goal(user, (goal.id for goal in goals))
    return [goal_view(user, goal, figures.get(goal.id) or {}) for goal in goals]


# -- policies -----------------------------------------------------------------------------


def _policy_values(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[int] | None]:
    errors: dict[str, list[str]] = {}
    _status(data.get("status"), _rules().policy_statuses, errors)
    values = {k: v for k, v in data.items() if k in ("title", "description", "status")}
    if "milestones" in data:
        values["milestones"] = [{"title": m["title"], "due_on": m["due_on"].isoformat() if m.get("due_on") else None,
                                 "done_on": m["done_on"].isoformat() if m.get("done_on") else None}
                                for m in data["milestones"]]
    goal_ids = data.get("goal_ids")
    if goal_ids is not None:
        known = set(db.session.scalars(select(StrategicGoal.id).where(StrategicGoal.id.in_(goal_ids))))
        if set(goal_ids) - known:
            errors["goal_ids"] = [f"no strategic goal {', '.join(map(str, sorted(set(goal_ids) - known)))}"]
    if errors:
        raise ValidationFailed(errors)
    return values, goal_ids


def _set_goals(session, policy: Policy, goal_ids: list[int]) -> None:
    session.query(GoalPolicy).filter(GoalPolicy.policy_id == policy.id).delete()
    session.add_all(GoalPolicy(goal_id=goal_id, policy_id=policy.id) for goal_id in dict.fromkeys(goal_ids))


def create_policy(user: User, data: Mapping[str, Any]) -> Policy:
    """A policy: title, description, status (``goals.yaml``), implementation
    milestones (``[{title, due_on, done_on}]``) and the goals it serves
    (``goal_ids``).

    Raises:
        Forbidden: not a planning officer or admin; ValidationFailed: per field.
    """
    with transaction() as session:
        require_role(user, PLANNERS, None, "create a policy")
        values, goal_ids = _policy_values(data)
        values.setdefault("status", next(iter(_rules().policy_statuses)))
        policy = Policy(**{"description": "", "milestones": []} | values, created_by_id=user.id)
        session.add(policy)
        session.flush()
        _set_goals(session, policy, goal_ids or [])
    return policy


def update_policy(user: User, policy_id: int, changes: Mapping[str, Any], *, if_match: str | None) -> Policy:
    """Change a policy's fields (``goal_ids`` replaces its goals), with its ETag.

    Raises:
        NotFound, Forbidden, PreconditionFailed, ValidationFailed.
    """
    with transaction() as session:
        require_role(user, PLANNERS, None, "change a policy")
        policy = _get(Policy, policy_id, "policy", for_update=True)
        check_if_match(if_match, policy.etag)
        values, goal_ids = _policy_values(changes)
        for name, value in values.items():
            setattr(policy, name, value)
        if goal_ids is not None:
            _set_goals(session, policy, goal_ids)
            policy.updated_at = utcnow()  # a change of links is a change of the policy: a new version
    return policy


def get_policy_or_raise(policy_id: int) -> Policy:
    """The policy ``policy_id``.

    Raises:
        NotFound: no such policy.
    """
    return _get(Policy, policy_id, "policy")


def list_policies() -> Select:
    """Every policy, oldest first."""
    return select(Policy).order_by(Policy.id)


def policy_goal_ids(policy_ids: Iterable[int]) -> dict[int, list[int]]:
    """policy id -> the ids of the goals it serves."""
    out: dict[int, list[int]] = {}
    ids = list(policy_ids)
    if ids:
        for policy_id, goal_id in db.session.execute(select(GoalPolicy.policy_id, GoalPolicy.goal_id).where(
                GoalPolicy.policy_id.in_(ids)).order_by(GoalPolicy.id)):
            out.setdefault(policy_id, []).append(goal_id)
    return out


def policy_view(policy: Policy, goal_ids: list[int] | None = None) -> dict[str, Any]:
    """A policy as the API shows it, with the goals it serves."""
    goal_ids = goal_ids if goal_ids is not None else policy_goal_ids([policy.id]).get(policy.id, [])
    return {"id": policy.id, "title": policy.title, "description": policy.description, "status": policy.status,
            "milestones": policy.milestones, "goal_ids": goal_ids, "version": policy.version, "etag": policy.etag}


def policy_views(policies: list[Policy]) -> list[dict[str, Any]]:
    """``policy_view`` of each policy, their goals in one statement."""
    goals = policy_goal_ids(p.id for p in policies)
    return [policy_view(p, goals.get(p.id, [])) for p in policies]


# -- planning cycles ----------------------------------------------------------------------


def _check_cycle(starts: date | None, approved: date | None) -> None:
    if starts is not None and approved is not None and approved < starts:
        raise ValidationFailed({"budget_approved_on": ["must not be before planning_starts_on"]})


def create_cycle(user: User, data: Mapping[str, Any]) -> PlanningCycle:
    """The planning cycle of a fiscal year: when planning starts and when
    the budget is approved (not before).

    Raises:
        Forbidden; ValidationFailed; Conflict 409 ``cycle_exists`` (one per fiscal year).
    """
    _check_cycle(data.get("planning_starts_on"), data.get("budget_approved_on"))
    try:
        with transaction() as session:
            require_role(user, PLANNERS, None, "open a planning cycle")
            cycle = PlanningCycle(**data)
            session.add(cycle)
            session.flush()
    except Duplicate as exc:
        raise Conflict(f"fiscal year {data['fiscal_year']} already has a planning cycle",
                       code="cycle_exists") from exc
    return cycle


def update_cycle(user: User, cycle_id: int, changes: Mapping[str, Any], *, if_match: str | None) -> PlanningCycle:
    """Change a cycle's dates, with its ETag.

    Raises:
        NotFound, Forbidden, PreconditionFailed, ValidationFailed.
    """
    with transaction():
        require_role(user, PLANNERS, None, "change a planning cycle")
        cycle = _get(PlanningCycle, cycle_id, "planning cycle", for_update=True)
        check_if_match(if_match, cycle.etag)
        _check_cycle(changes.get("planning_starts_on", cycle.planning_starts_on),
                     changes.get("budget_approved_on", cycle.budget_approved_on))
        for name, value in changes.items():
            setattr(cycle, name, value)
    return cycle


def get_cycle_or_raise(cycle_id: int) -> PlanningCycle:
    """The planning cycle ``cycle_id``.

    Raises:
        NotFound: no such cycle.
    """
    return _get(PlanningCycle, cycle_id, "planning cycle")


def list_cycles() -> Select:
    """Every planning cycle, latest fiscal year first."""
    return select(PlanningCycle).order_by(PlanningCycle.fiscal_year.desc())


# -- alignment ----------------------------------------------------------------------------


def alignment(user: User, fiscal_year: int | None = None) -> dict[str, list]:
    """The alignment check (docs/design.md §16): ``goals_without_ppas``, the
    goals (not dropped) no PPA that ``user`` may see serves (for a MOA's
    user: the goals their MOA does not serve); ``ppas_without_goals``, the
    PPAs ``user`` may see (not rejected; of ``fiscal_year`` when given) that
    serve no goal. Two statements."""
    served = select(GoalPpa.goal_id).join(Ppa, Ppa.id == GoalPpa.ppa_id).where(_counted(), visible_ppas(user))
    if fiscal_year:
        served = served.where(Ppa.fiscal_year == fiscal_year)
    goals = list(db.session.scalars(select(StrategicGoal).where(
        StrategicGoal.id.not_in(served), StrategicGoal.status != "dropped").order_by(StrategicGoal.id)))
    ppas = select(Ppa).where(visible_ppas(user), _counted(), Ppa.id.not_in(select(GoalPpa.ppa_id)))
    if fiscal_year:
        ppas = ppas.where(Ppa.fiscal_year == fiscal_year)
    return {"goals_without_ppas": goals, "ppas_without_goals": list(db.session.scalars(ppas.order_by(Ppa.id)))}


def alignment_matrix(user: User, fiscal_year: int | None = None) -> list[dict[str, Any]]:
    """The alignment matrix, MOA x goal: for each pair with a PPA (that
    ``user`` may see, not rejected), the PPAs, their budget (PHP) and
    progress by goals.yaml's method; one aggregate statement, rows by MOA
    code then goal id."""
    budget = type_coerce(Ppa.budget_allocation, BigInteger)
    query = (select(Organization.code, StrategicGoal.id, StrategicGoal.title, func.count(Ppa.id), func.sum(budget),
                    func.sum(budget * Ppa.progress), func.sum(Ppa.progress))
             .select_from(GoalPpa).join(Ppa, Ppa.id == GoalPpa.ppa_id)
             .join(StrategicGoal, StrategicGoal.id == GoalPpa.goal_id)
             .join(Organization, Organization.id == Ppa.organization_id)
             .where(visible_ppas(user), _counted())
             .group_by(Organization.code, StrategicGoal.id, StrategicGoal.title)
             .order_by(Organization.code, StrategicGoal.id))
    if fiscal_year:
        query = query.where(Ppa.fiscal_year == fiscal_year)
    return [{"moa": moa, "goal_id": goal_id, "goal": title} | _figures(count, centavos, weighted, plain)
            for moa, goal_id, title, count, centavos, weighted, plain in db.session.execute(query)]


# -- the public PPA page ------------------------------------------------------------------


def _public_where():
    return Ppa.approval_status.in_(_rules().public_stages)


def list_public_ppas(fiscal_year: int | None = None) -> Select:
    """The PPAs anyone may read (stages of goals.yaml ``public_ppa``),
    newest first."""
    query = select(Ppa).where(_public_where())
    if fiscal_year:
        query = query.where(Ppa.fiscal_year == fiscal_year)
    return query.order_by(Ppa.id.desc())


#: The ``record_type`` of a PPA's completion photos (``services.completion_photos``).
COMPLETION_PHOTOS = "completion"


def public_photo_name(ppa_id: int, photo_id: int, media_type: str) -> str:
    """The name a completion photo goes by in public (``ppa-7-photo-12.jpg``):
    never the uploader's own file name, which may name a person."""
    return f"ppa-{ppa_id}-photo-{photo_id}.{'png' if media_type == 'image/png' else 'jpg'}"


def get_public_photo(ppa_id: int, photo_id: int) -> Attachment:
    """A completion photo of a public PPA, while goals.yaml lists ``photos``
    among the public fields.

    Raises:
        NotFound: the PPA is not public, the photo is not its, or photos are not public.
    """
    ppa = get_public_ppa(ppa_id)
    photo = db.session.get(Attachment, photo_id)
    if ("photos" not in _rules().public_fields or photo is None or photo.record_type != COMPLETION_PHOTOS
            or photo.record_id != ppa.id):
        raise NotFound(f"photo {photo_id} of PPA {ppa_id} not found")
    return photo


def get_public_ppa(ppa_id: int) -> Ppa:
    """A public PPA.

    Raises:
        NotFound: unknown, or not in a public stage.
    """
    ppa = db.session.scalar(select(Ppa).where(Ppa.id == ppa_id, _public_where()))
    if ppa is None:
        raise NotFound(f"PPA {ppa_id} not found")
    return ppa


def _links(ppa_ids: Iterable[int]) -> tuple[dict[int, list[dict]], ...]:
    """ppa id -> its published needs, -> its goals, each ``{id, title}`` in
    link order, and -> its completion photos ``{id, file_name}`` (oldest
    first; a generated name, never the uploader's); three statements
    whatever the number of PPAs."""
    ids = list(ppa_ids)
    needs: dict[int, list[dict]] = {i: [] for i in ids}
    goals: dict[int, list[dict]] = {i: [] for i in ids}
    photos: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        for ppa_id, photo_id, media_type in db.session.execute(
                select(Attachment.record_id, Attachment.id, Attachment.media_type)
                .where(Attachment.record_type == COMPLETION_PHOTOS, Attachment.record_id.in_(ids))
                .order_by(Attachment.id)):
            photos[ppa_id].append({"id": photo_id, "file_name": public_photo_name(ppa_id, photo_id, media_type)})
        for ppa_id, need_id, title in db.session.execute(
                select(PpaNeed.ppa_id, Need.id, Need.title).join(Need, PpaNeed.need_id == Need.id)
                .where(PpaNeed.ppa_id.in_(ids), Need.status.in_(PUBLISHED)).order_by(PpaNeed.id)):
            needs[ppa_id].append({"id": need_id, "title": title})
        for ppa_id, goal_id, title in db.session.execute(
                select(GoalPpa.ppa_id, StrategicGoal.id, StrategicGoal.title)
                .join(StrategicGoal, GoalPpa.goal_id == StrategicGoal.id)
                .where(GoalPpa.ppa_id.in_(ids)).order_by(GoalPpa.id)):
            goals[ppa_id].append({"id": goal_id, "title": title})
    return needs, goals, photos


def public_ppa(ppa: Ppa, money: tuple[Decimal, Decimal] | None = None,
               links: tuple[dict, ...] | None = None) -> dict[str, Any]:
    """What anyone may read of a public PPA: ``id`` and the fields
    goals.yaml's ``public_ppa.fields`` lists; every other field is ``None``
    (present, as every reply field is: docs/design.md §5); never a person
    (no preparer, reviewer or signatory: there is no field for one). Needs
    are shown when published, by id and title; goals by id and title; the
    privacy notice always (``privacy_notice``; issue 15 item 7). ``money``
    (``spent``) and ``links`` (``_links``) may come batched."""
    obligated, disbursed = money if money is not None else spent([ppa.id]).get(ppa.id, (ZERO, ZERO))
    needs, goals, photos = links if links is not None else _links([ppa.id])
    wanted = set(_rules().public_fields)
    fields = {
        "title": ppa.title, "summary": ppa.summary, "moa": ppa.organization.code, "fiscal_year": ppa.fiscal_year,
        "category": ppa.category, "sector": ppa.sector, "funding_source": ppa.funding_source,
        "start_date": ppa.start_date, "target_end_date": ppa.target_end_date, "status": ppa.status,
        "budget": ppa.budget_allocation, "obligated": obligated, "disbursed": disbursed, "progress": ppa.progress,
        "needs": needs.get(ppa.id, []), "goals": goals.get(ppa.id, []), "photos": photos.get(ppa.id, []),
    }
    return ({"id": ppa.id} | {name: value if name in wanted else None for name, value in fields.items()}
            | {"privacy_notice": notice()})


def public_ppas(ppas: list[Ppa]) -> list[dict[str, Any]]:
    """``public_ppa`` of each PPA: four statements whatever their number."""
    ids = [p.id for p in ppas]
    money, links = spent(ids), _links(ids)
    return [public_ppa(p, money.get(p.id), links) for p in ppas]
