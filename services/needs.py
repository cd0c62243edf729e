"""Community needs and participatory voting (docs/design.md §14; issue 15
items 1-2 and the public list of item 5).

Who may do what (admins may do all):

| action | roles |
|---|---|
| raise a need | ``community_representative``, ``moa_focal`` (own MOA), ``planning_officer``, ``technical_reviewer`` |
| its steps (validate, forward, defer, decline; address) | ``workflows/need.yaml`` |
| vote, withdraw one's vote | anyone signed in, on a published need |
| link a PPA to the need it addresses | whoever edits the PPA (its MOA's focal person) |
| read the published needs | anyone, without an account (``public_view``) |

A need's MOA (``organization_id``) scopes it as a PPA is scoped: a MOA's
focal person sees the needs without a MOA and their own MOA's, never
another MOA's (404); reviewers see all. Its category, urgency,
submission type and stakeholder weights come from ``needs.yaml``, its
places from ``psgc_barmm.yaml``.

One vote per user per need is the database's rule
(``uq_need_votes_need_user``): a second vote, however close in time to the
first, is refused (409 ``already_voted``). The need's ``votes`` and
``vote_weight`` change in the vote's own transaction by one atomic UPDATE,
without touching its version (a vote does not make a reviewer's ETag stale).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, case, delete, func, or_, select, type_coerce, update

from db import db
from db.models import Need, NeedVote, Organization, Ppa, PpaNeed, User
from db.types import utcnow
from services import notifications, workflows
from services.access import can_edit_ppas_of, can_see_ppa, require_role, sees_all_organizations
from services.budget import spent
from services.calendar import today
from services.concurrency import check_if_match
from services.ppas import get_ppa_or_raise
from services.privacy import notice
from services.runtime import get_runtime
from services.unit_of_work import transaction
from services.users import get_organization_or_raise
from services.workflows import RecordKind
from workflow.engine import Action
from workflow.errors import Conflict, Duplicate, NotFound, PreconditionFailed, ValidationFailed
from workflow.money import from_centavos

#: Needs as the workflow service sees them: the ``need`` workflow
#: (rules/default/workflows/need.yaml), the stage in ``status``, the steps in
#: ``workflow_transitions``, the preparer whoever raised it.
NEED = workflows.register(RecordKind("need", workflow="need", preparer_of=lambda row: row.submitted_by_id))

#: Who may raise a need (docs/design.md §14).
RAISE = ("community_representative", "moa_focal", "planning_officer", "technical_reviewer")

#: The stages in which a need is published (``/public/needs``) and open to votes.
PUBLISHED = ("validated", "forwarded", "addressed", "deferred")

#: Fields a need is written with (``create_need``).
FIELDS = ("title", "description", "category", "urgency", "submission_type", "province_code", "municipality_code",
          "barangay_code", "population_affected", "estimated_cost")


def _rules():
    rules = get_runtime().rules
    return rules.needs, rules.psgc_barmm


def _check(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per-field problems of a need's fields against needs.yaml and psgc_barmm.yaml."""
    vocab, places = _rules()
    errors: dict[str, list[str]] = {}
    for name, known in (("category", vocab.categories), ("urgency", vocab.urgencies),
                        ("submission_type", vocab.submission_types)):
        value = data.get(name)
        if value is not None and value not in known:
            errors[name] = [f"unknown {name.replace('_', ' ')} {value!r} (known: {', '.join(known)})"]
    province, municipality, barangay = (data.get("province_code"), data.get("municipality_code"),
                                        data.get("barangay_code"))
    if province is not None and province not in places.provinces:
        errors["province_code"] = [f"{province} is not a BARMM province in psgc_barmm.yaml"]
    if municipality is not None:
        known = places.municipalities.get(municipality)
        if known is None:
            errors["municipality_code"] = [f"{municipality} is not a municipality in psgc_barmm.yaml"]
        elif province is not None and known[1] != province:
            errors["municipality_code"] = [f"{municipality} ({known[0]}) is not in province {province}"]
    if barangay is not None and (municipality is None or barangay[:7] != municipality[:7] or barangay == municipality):
        errors["barangay_code"] = ["must be a barangay code inside the municipality given"]
    return errors


#: The message of a need raised without consent (issue 15 item 7).
CONSENT_REQUIRED = "consent is required to record personal data"


def may_raise(user: User) -> bool:
    """Whether ``user`` may raise a need at all (``RAISE`` roles, in any
    organization; ``create_need`` checks the organization itself)."""
    return bool(user.roles & set(RAISE)) or "admin" in user.roles


def create_need(user: User, *, consent: bool = False, organization: str | None = None, **data: Any) -> Need:
    """Raise a community need (stage ``submitted``): title, description,
    category and urgency required (checked by the schema); category, urgency
    and submission type from needs.yaml; province, municipality (inside the
    province) and barangay (inside the municipality) as PSGC codes from
    psgc_barmm.yaml; estimated cost PHP (``Decimal``). ``organization``: the
    MOA it concerns (a MOA focal person's own by default). ``consent``
    must be ``True``: the person agrees to the privacy notice of needs.yaml
    (``privacy``), whose version is stored with the time (``consent_at``,
    UTC; Data Privacy Act, RA 10173; issue 15 item 7).

    Raises:
        ValidationFailed: per field (``consent`` when not given);
        Forbidden: a role that may not raise one.
    """
    with transaction() as session:
        org_id = get_organization_or_raise(organization).id if organization else None
        if org_id is None and "moa_focal" in user.roles and not sees_all_organizations(user):
            org_id = user.organization_id
        require_role(user, RAISE, org_id if org_id is not None else user.organization_id, "raise a community need")
        errors = _check(data)
        if consent is not True:
            errors["consent"] = [CONSENT_REQUIRED]
        if errors:
            raise ValidationFailed(errors)
        need = Need(**{k: v for k, v in data.items() if k in FIELDS and v is not None}, organization_id=org_id,
                    submitted_by_id=user.id, submitted_on=today(), status=_initial_stage(), votes=0, vote_weight=0,
                    consent_at=utcnow(), privacy_notice_version=_rules()[0].privacy.notice_version)
        session.add(need)
    return need


def _initial_stage() -> str:
    return get_runtime().rules.workflows[NEED.workflow].machine.initial


def _visible(user: User):
    """WHERE clause: the needs ``user`` may see (module docstring)."""
    if sees_all_organizations(user):
        return Need.id.is_not(None)
    return or_(Need.organization_id.is_(None), Need.organization_id == user.organization_id,
               Need.submitted_by_id == user.id)


def _may_see(user: User, need: Need) -> bool:
    return (sees_all_organizations(user) or need.organization_id in (None, user.organization_id)
            or need.submitted_by_id == user.id)


def get_need_or_raise(user: User, need_id: int, *, for_update: bool = False) -> Need:
    """A need visible to ``user`` (``for_update``: locked and re-read).

    Raises:
        NotFound: unknown, or another MOA's for a MOA's focal person.
    """
    if for_update:
        need = db.session.scalar(select(Need).where(Need.id == need_id).with_for_update(of=Need)
                                 .execution_options(populate_existing=True))
    else:
        need = db.session.get(Need, need_id)
    if need is None or not _may_see(user, need):
        raise NotFound(f"need {need_id} not found")
    return need


@dataclass(frozen=True)
class NeedFilters:
    """Filters of a list of needs (all optional): category, urgency and
    status names, PSGC province and municipality codes, MOA code."""

    category: str | None = None
    urgency: str | None = None
    status: str | None = None
    province_code: str | None = None
    municipality_code: str | None = None
    moa: str | None = None


def _filtered(query: Select, filters: NeedFilters) -> Select:
    for name in ("category", "urgency", "status", "province_code", "municipality_code"):
        value = getattr(filters, name)
        if value:
            query = query.where(getattr(Need, name) == value)
    if filters.moa:
        query = query.where(Need.organization_id.in_(select(Organization.id).where(Organization.code == filters.moa)))
    return query


def list_needs(user: User, filters: NeedFilters = NeedFilters()) -> Select:
    """The needs ``user`` may see, most voted first, then newest."""
    return _filtered(select(Need).where(_visible(user)), filters).order_by(Need.votes.desc(), Need.id.desc())


def fire_need_transition(user: User, need_id: int, trigger: str, *, comment: str | None = None,
                         if_match: str | None = None, organization: str | None = None) -> Need:
    """Move a need through its workflow (``validate``, ``forward``, ``defer``,
    ``decline``; rules/default/workflows/need.yaml) with the one workflow
    engine; ``forward`` names the MOA (``organization``) unless the need has one.

    Raises:
        NotFound, PreconditionFailed (stale ``if_match``), ValidationFailed
        (unknown trigger, missing comment, forward without a MOA),
        InvalidTransition (409), RoleMissing / SeparationOfDuties (403).
    """
    with transaction():
        need = get_need_or_raise(user, need_id, for_update=True)
        check_if_match(if_match, need.etag)
        if organization:
            if trigger != "forward":
                raise ValidationFailed({"organization": ["is given only with the forward step"]})
            need.organization_id = get_organization_or_raise(organization).id
        elif trigger == "forward" and need.organization_id is None:
            raise ValidationFailed({"organization": ["name the MOA the need is forwarded to"]})
        workflows.fire(user, NEED, need, trigger, comment=comment)
    return need


def need_actions(user: User, need_id: int, *, if_match: str | None = None) -> tuple[Need, list[Action]]:
    """Every step of the need workflow, open to ``user`` now or why not
    (a stale ``if_match`` closes them all).

    Raises:
        NotFound: the need is not visible to ``user``.
    """
    need = get_need_or_raise(user, need_id)
    try:
        check_if_match(if_match, need.etag)
        stale = False
    except PreconditionFailed:
        stale = True
    return need, workflows.actions(user, NEED, need, stale=stale)


def need_history(user: User, need_id: int) -> list:
    """The need's steps, oldest first (``workflow_transitions``).

    Raises:
        NotFound: the need is not visible to ``user``.
    """
    return workflows.history(NEED, get_need_or_raise(user, need_id).id)


# -- votes ------------------------------------------------------------------------------


def vote(user: User, need_id: int) -> NeedVote:
    """Vote for a published need, once: the vote's weight is that of the
    user's ``stakeholder_type`` in needs.yaml (1 without one); the need's
    ``votes`` and ``vote_weight`` go up in the same transaction.

    Raises:
        NotFound; Conflict 409 ``not_published`` (not validated yet, or
        declined), 409 ``already_voted`` (the database's unique constraint).
    """
    vocab, _ = _rules()
    try:
        with transaction() as session:
            need = get_need_or_raise(user, need_id)
            if need.status not in PUBLISHED:
                raise Conflict(f"need {need_id} is {need.status}: votes are open once it is validated, "
                               "until it is declined", code="not_published")
            weight = vocab.weights.get(user.stakeholder_type or "", 1)
            row = NeedVote(need_id=need.id, user_id=user.id, weight=weight, stakeholder_type=user.stakeholder_type)
            session.add(row)
            session.flush()
            # Counted only while still published: a decline committed since the read above waits no
            # longer than its row lock, and PostgreSQL re-checks the condition after it.
            counted = session.execute(update(Need).where(Need.id == need.id, Need.status.in_(PUBLISHED)).values(
                votes=Need.votes + 1, vote_weight=Need.vote_weight + weight).execution_options(
                synchronize_session=False)).rowcount
            if counted != 1:
                raise Conflict(f"need {need_id} was just closed to votes; nothing was recorded",
                               code="not_published")
            votes = session.scalar(select(Need.votes).where(Need.id == need.id))
            if votes in vocab.vote_milestones:
                notifications.notify_vote_milestone(session, need, votes)
    except Duplicate as exc:
        raise Conflict(f"you have already voted for need {need_id}", code="already_voted") from exc
    return row


def withdraw_vote(user: User, need_id: int) -> None:
    """Take back one's vote for a need (the counts go down with it).

    Raises:
        NotFound: the need is not visible, or ``user`` has no vote for it.
    """
    with transaction() as session:
        need = get_need_or_raise(user, need_id)
        weight = session.scalar(delete(NeedVote).where(NeedVote.need_id == need.id, NeedVote.user_id == user.id)
                                .returning(NeedVote.weight))
        if weight is None:
            raise NotFound(f"you have no vote for need {need_id}")
        session.execute(update(Need).where(Need.id == need.id).values(
            votes=Need.votes - 1, vote_weight=Need.vote_weight - weight).execution_options(synchronize_session=False))


def my_votes(user: User) -> Select:
    """``user``'s votes, newest first, each with its need."""
    return select(NeedVote).where(NeedVote.user_id == user.id).order_by(NeedVote.id.desc())


def priorities(*, category: str | None = None, province_code: str | None = None, top: int = 5,
               weighted: bool = False) -> list[dict[str, Any]]:
    """The community's top priorities: per area (province) and category, the
    ``top`` published needs by votes (``weighted``: by weighted votes), in
    one aggregate query (a window function ranking each group's needs).

    Returns:
        ``[{province_code, province, category, needs: [Need, ...]}]``, the
        groups by their leading need's votes, most first.
    """
    score = Need.vote_weight if weighted else Need.votes
    rank = func.row_number().over(partition_by=(Need.province_code, Need.category),
                                  order_by=(score.desc(), Need.id)).label("rank")
    inner = _filtered(select(Need.id, rank).where(Need.status.in_(PUBLISHED)),
                      NeedFilters(category=category, province_code=province_code)).subquery()
    rows = db.session.scalars(select(Need).join(inner, inner.c.id == Need.id).where(inner.c.rank <= top)
                              .order_by(score.desc(), Need.id)).all()
    _, places = _rules()
    groups: dict[tuple, dict[str, Any]] = {}
    for need in rows:
        key = (need.province_code, need.category)
        group = groups.setdefault(key, {"province_code": need.province_code,
                                        "province": places.provinces.get(need.province_code or ""),
                                        "category": need.category, "needs": []})
        group["needs"].append(need)
    return list(groups.values())


# -- gap analysis -----------------------------------------------------------------------

#: The figures of a row of the gap analysis: counts, then estimated costs (PHP).
GAP_FIGURES = ("raised", "validated", "funded", "unfunded")


def _funded_ids():
    """Subquery: the ids of the needs addressed by a PPA with a budget
    (allocation above zero, not rejected), each once."""
    return (select(PpaNeed.need_id).join(Ppa, Ppa.id == PpaNeed.ppa_id)
            .where(type_coerce(Ppa.budget_allocation, BigInteger) > 0, Ppa.approval_status != "rejected")
            .distinct().subquery("funded"))


def _gap_row(key: str | None, name: str | None) -> dict[str, Any]:
    return {"key": key, "name": name} | {f: 0 for f in GAP_FIGURES} | {f"{f}_cost": 0 for f in GAP_FIGURES}


def gap_analysis(user: User, filters: NeedFilters = NeedFilters()) -> dict[str, Any]:
    """The gap-analysis dashboard (issue 15 item 8, docs/design.md §14): of
    the needs ``user`` may see (``filters`` as ``list_needs``), per category
    and per area (province), how many were ``raised`` (all, whatever their
    stage), ``validated`` (published: validated or later, not declined),
    ``funded`` (addressed by a PPA with a budget allocation above zero, not
    rejected) and ``unfunded`` (validated, not funded), each with the sum of
    their estimated costs (``<figure>_cost``, PHP ``Decimal``; a need
    without an estimate counts 0). One aggregate statement, grouped by
    category and province; the two breakdowns and the totals are summed
    from its rows.

    Returns:
        ``{by_category: [row], by_area: [row], total: row}``, each row
        ``{key, name, raised, validated, funded, unfunded, raised_cost,
        validated_cost, funded_cost, unfunded_cost}``; ``key`` the category
        or the PSGC province code (``None``: no province), ``name`` its label
        in needs.yaml or psgc_barmm.yaml; categories in needs.yaml's order,
        provinces in psgc_barmm.yaml's, unknown ones after.
    """
    published = Need.status.in_(PUBLISHED)
    funded_ids = _funded_ids()
    funded = funded_ids.c.need_id.is_not(None)
    cost = func.coalesce(type_coerce(Need.estimated_cost, BigInteger), 0, type_=BigInteger)

    def count_sum(condition):
        return (func.sum(case((condition, 1), else_=0)), func.sum(case((condition, cost), else_=0)))

    columns = [func.count(Need.id), func.sum(cost), *count_sum(published), *count_sum(funded),
               *count_sum(published & ~funded)]
    query = _filtered(select(Need.category, Need.province_code, *columns)
                      .outerjoin(funded_ids, funded_ids.c.need_id == Need.id).where(_visible(user)), filters)
    rows = db.session.execute(query.group_by(Need.category, Need.province_code)).all()
    vocab, places = _rules()
    total = _gap_row(None, "All needs")
    by_category = {key: _gap_row(key, name) for key, name in vocab.categories.items()}
    by_area = {key: _gap_row(key, name) for key, name in places.provinces.items()}
    for category, province, *figures in rows:
        targets = (total, by_category.setdefault(category, _gap_row(category, category)),
                   by_area.setdefault(province, _gap_row(province, places.provinces.get(province or "")
                                                         or ("No province" if province is None else province))))
        for index, figure in enumerate(GAP_FIGURES):
            count, centavos = int(figures[2 * index] or 0), int(figures[2 * index + 1] or 0)
            for row in targets:
                row[figure] += count
                row[f"{figure}_cost"] += centavos

    def money(row):
        return row | {f"{f}_cost": from_centavos(row[f"{f}_cost"]) for f in GAP_FIGURES}

    return {"by_category": [money(r) for r in by_category.values()],
            "by_area": [money(r) for r in by_area.values()], "total": money(total)}


# -- PPAs that address needs ------------------------------------------------------------


def link_ppa(user: User, ppa_id: int, need_id: int) -> PpaNeed:
    """Record that a PPA addresses a need (the PPA's ``needs_addressed``):
    the need must be forwarded to the PPA's MOA (or already addressed by
    another of its PPAs); a forwarded need moves to ``addressed`` (its
    workflow's ``address`` step, as ``user``) and gets its budget inclusion
    date (today, Asia/Manila) on its first PPA.

    Raises:
        NotFound, Forbidden (not the PPA's editor), Conflict 409
        ``wrong_moa`` / ``not_forwarded``, Duplicate (already linked).
    """
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id, for_update=True)
        if not can_edit_ppas_of(user, ppa.organization_id):
            require_role(user, ("moa_focal",), ppa.organization_id, "link a need to this PPA")
        need = get_need_or_raise(user, need_id, for_update=True)
        if need.organization_id != ppa.organization_id:
            raise Conflict(f"need {need_id} is not forwarded to {ppa.organization.code}", code="wrong_moa")
        if need.status == "forwarded":
            workflows.fire(user, NEED, need, "address", comment=f"addressed by PPA {ppa.id}")
        elif need.status != "addressed":
            raise Conflict(f"need {need_id} is {need.status}; a PPA addresses a forwarded need",
                           code="not_forwarded")
        if need.budget_included_on is None:
            need.budget_included_on = today()
        link = PpaNeed(ppa_id=ppa.id, need_id=need.id, linked_by_id=user.id)
        session.add(link)
    return link


def needs_addressed(user: User, ppa_id: int) -> list[Need]:
    """The needs a visible PPA addresses, oldest link first."""
    ppa = get_ppa_or_raise(user, ppa_id)
    return list(db.session.scalars(select(Need).join(PpaNeed, PpaNeed.need_id == Need.id)
                                   .where(PpaNeed.ppa_id == ppa.id).order_by(PpaNeed.id)))


def need_trail(user: User, need_id: int) -> list[dict[str, Any]]:
    """A need's trail (issue 15 item 8): for each PPA addressing it that
    ``user`` may see (oldest link first; another MOA's PPAs stay hidden, as
    everywhere), ``{ppa, stage, progress, budget, obligated, disbursed}``:
    its approval stage, its physical (WBS) progress in percent, its budget
    allocation, and what was obligated and disbursed on it (PHP ``Decimal``,
    as the public PPA page counts them: ``services.budget.spent``). Four
    statements whatever the number of PPAs."""
    ppas = [p for p in ppas_of(need_id) if can_see_ppa(user, p)]
    money = spent(p.id for p in ppas)
    return [{"ppa": p, "stage": p.approval_status, "progress": p.progress, "budget": p.budget_allocation,
             "obligated": money[p.id][0], "disbursed": money[p.id][1]} for p in ppas]


def ppas_of(need_id: int) -> list[Ppa]:
    """The PPAs addressing a need, oldest link first."""
    return list(db.session.scalars(select(Ppa).join(PpaNeed, PpaNeed.ppa_id == Ppa.id)
                                   .where(PpaNeed.need_id == need_id).order_by(PpaNeed.id)))


# -- the public view --------------------------------------------------------------------


def list_public(filters: NeedFilters = NeedFilters()) -> Select:
    """Published needs (validated or later, not declined), most voted first;
    for anyone, no account (what of them is shown: ``public_view``)."""
    return _filtered(select(Need).where(Need.status.in_(PUBLISHED)), filters).order_by(
        Need.votes.desc(), Need.id.desc())


def get_public(need_id: int) -> Need:
    """A published need.

    Raises:
        NotFound: unknown or not published.
    """
    need = db.session.get(Need, need_id)
    if need is None or need.status not in PUBLISHED:
        raise NotFound(f"need {need_id} not found")
    return need


def public_view(need: Need) -> dict[str, Any]:
    """What anyone may read of a published need: never who raised it or who
    voted (Data Privacy Act, RA 10173): no names, e-mails or user ids; of the
    PPAs addressing it, only the enacted ones (budget.yaml
    ``report_remarks.enacted_stages``): a draft PPA is not public; and the
    privacy notice (``privacy_notice``: ``services.privacy.notice``)."""
    _, places = _rules()
    municipality = places.municipalities.get(need.municipality_code or "")
    return {"id": need.id, "title": need.title, "description": need.description, "category": need.category,
            "urgency": need.urgency, "submission_type": need.submission_type, "province_code": need.province_code,
            "province": places.provinces.get(need.province_code or ""), "municipality_code": need.municipality_code,
            "municipality": municipality[0] if municipality else None, "barangay_code": need.barangay_code,
            "population_affected": need.population_affected, "estimated_cost": need.estimated_cost,
            "status": need.status, "moa": need.organization.code if need.organization else None,
            "votes": need.votes, "submitted_on": need.submitted_on, "budget_included_on": need.budget_included_on,
            "ppas": [{"id": ppa.id, "title": ppa.title} for ppa in ppas_of(need.id)
                     if ppa.approval_status in get_runtime().rules.budget.remarks.enacted_stages],
            "privacy_notice": notice()}


def place_names(need: Need) -> tuple[str | None, str | None]:
    """The names of a need's province and municipality (psgc_barmm.yaml)."""
    _, places = _rules()
    municipality = places.municipalities.get(need.municipality_code or "")
    return places.provinces.get(need.province_code or ""), municipality[0] if municipality else None



