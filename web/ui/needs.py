"""Community needs on pages (docs/design.md §14; issue 15 items 1-2 and
the public list of item 5).

``/public/needs`` and ``/public/needs/<id>``: the published needs for
anyone, no account, no personal data (``services.needs.public_view``).
``/needs`` and ``/needs/<id>``: for signed-in users, the needs they may see
with filters (category, province, status) and vote buttons (HTMX), and a
need's page with its vote button, its trail (each PPA addressing it: stage,
WBS progress, budget, obligated, disbursed) and its Actions panel
(validate, forward to a MOA, defer, decline with a comment).
``/needs/gap-analysis`` (raised, validated, funded, unfunded per category
and province, with a chart drawn on the server as SVG) and
``/needs/priorities`` (issue 15 item 8). The views are thin:
``services.needs`` decides.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import select

from db import db
from db.models import NeedVote, Organization
from services import needs
from services.needs import NeedFilters
from services.runtime import get_runtime
from web.ui.filters import words
from web.ui.forms import NeedFilterForm, NeedForm, NeedTransitionForm
from web.ui.pages import error_page, first_rows, is_htmx, saved, signed_in, submit

bp = Blueprint("needs", __name__)

#: How many needs a list shows (most voted first).
LIST_SIZE = 200

#: The endpoints anyone may open (added to ``web.ui.PUBLIC_ENDPOINTS``).
PUBLIC = frozenset({"ui.needs.public_list", "ui.needs.public_detail"})


def need_stage(stage: str) -> str:
    """The label of a need's stage from the rules (``forwarded`` -> ``Forwarded to a MOA``)."""
    state = get_runtime().workflow(needs.NEED.workflow).rules.machine.states.get(stage)
    return state.label if state is not None else words(stage)


def _vocabulary() -> dict:
    rules = get_runtime().rules
    return {"categories": rules.needs.categories, "urgencies": rules.needs.urgencies,
            "provinces": rules.psgc_barmm.provinces, "stage": need_stage, "places": needs.place_names}


def _filter_form(*, published_only: bool) -> tuple[NeedFilterForm, NeedFilters]:
    vocab = _vocabulary()
    form = NeedFilterForm()
    form.category.choices = [("", "All categories"), *vocab["categories"].items()]
    form.province_code.choices = [("", "All provinces"), *vocab["provinces"].items()]
    stages = needs.PUBLISHED if published_only else get_runtime().workflow(needs.NEED.workflow).rules.machine.states
    form.status.choices = [("", "All stages"), *[(s, need_stage(s)) for s in stages]]
    return form, NeedFilters(category=form.category.data or None, province_code=form.province_code.data or None,
                             status=form.status.data or None)


@bp.route("/public/needs")
def public_list():
    """The published needs, most voted first, for anyone."""
    form, filters = _filter_form(published_only=True)
    rows = [needs.public_view(n) for n in first_rows(needs.list_public(filters), LIST_SIZE)]
    return render_template("needs/public_list.html", needs=rows, form=form, **_vocabulary())


@bp.route("/public/needs/<id:need_id>")
def public_detail(need_id: int):
    """One published need, with the PPAs addressing it, for anyone."""
    return render_template("needs/public_detail.html", need=needs.public_view(needs.get_public(need_id)),
                           **_vocabulary())


@bp.route("/needs/new", methods=["GET", "POST"])
def new():
    """Raise a community need (community representatives, MOA focal persons,
    BPDA planners and reviewers), with the person's consent to the privacy
    notice; a refusal shows each message next to its field."""
    user = signed_in()
    if not needs.may_raise(user):
        return error_page(403, "Forbidden", "Community representatives, MOA focal persons and BPDA planners "
                                            "and reviewers raise needs.")
    vocab, form = _vocabulary(), NeedForm()
    form.category.choices = [("", "Choose a category"), *vocab["categories"].items()]
    form.urgency.choices = [("", "Choose an urgency"), *vocab["urgencies"].items()]
    form.submission_type.choices = list(get_runtime().rules.needs.submission_types.items())
    form.province_code.choices = [("", "Not in one province"), *vocab["provinces"].items()]
    values = {name: form[name].data or None for name in NEED_FIELDS}
    done, status = submit(form, lambda: needs.create_need(user, consent=form.consent.data is True, **values),
                          lambda need: saved(f"Need {need.id} raised. BPDA validates it before it is published.",
                                             url_for(".need_detail", need_id=need.id)))
    return done or (render_template("needs/new.html", form=form), status)


#: The fields of ``NeedForm`` that ``services.needs.create_need`` takes as they are.
NEED_FIELDS = ("title", "description", "category", "urgency", "submission_type", "province_code",
               "municipality_code", "barangay_code", "population_affected", "estimated_cost")


@bp.route("/needs")
def need_list():
    """The needs the user may see, with filters."""
    form, filters = _filter_form(published_only=False)
    user = signed_in()
    rows = first_rows(needs.list_needs(user, filters), LIST_SIZE)
    return render_template("needs/list.html", needs=rows, form=form, voted=_voted(user, [n.id for n in rows]),
                           may_raise=needs.may_raise(user),
                           published=needs.PUBLISHED, **_vocabulary())


def _voted(user, need_ids: list[int]) -> set[int]:
    """The ids among ``need_ids`` of the needs ``user`` has voted for (one statement)."""
    if not need_ids:
        return set()
    return set(db.session.scalars(select(NeedVote.need_id).where(NeedVote.user_id == user.id,
                                                                 NeedVote.need_id.in_(need_ids))))


#: The segments of the gap-analysis chart: (name, colour), in the order of ``_bars``.
GAP_SERIES = (("Funded", "#2e7d32"), ("Unfunded", "#c62828"), ("Not yet validated", "#9e9e9e"))


def _bars(row: dict) -> dict:
    """A gap-analysis row with its chart bar: (label, [funded, unfunded, raised but not validated])."""
    return row | {"bars": (row["name"], [row["funded"], row["unfunded"], row["raised"] - row["validated"]])}


@bp.route("/needs/gap-analysis")
def gap_analysis():
    """The gap analysis of the needs the user may see, by category and by province."""
    form, filters = _filter_form(published_only=False)
    gaps = needs.gap_analysis(signed_in(), NeedFilters(category=filters.category,
                                                       province_code=filters.province_code))
    gaps = {"by_category": [_bars(r) for r in gaps["by_category"]], "by_area": [_bars(r) for r in gaps["by_area"]],
            "total": gaps["total"]}
    return render_template("needs/gap_analysis.html", gaps=gaps, form=form, series=GAP_SERIES, **_vocabulary())


@bp.route("/needs/priorities")
def priorities():
    """The community's top priorities, per province and category, with vote buttons."""
    form, filters = _filter_form(published_only=True)
    weighted = bool(request.args.get("weighted"))
    groups = needs.priorities(category=filters.category, province_code=filters.province_code, weighted=weighted)
    shown = [n.id for g in groups for n in g["needs"]]
    return render_template("needs/priorities.html", groups=groups, form=form, weighted=weighted,
                           voted=_voted(signed_in(), shown), **_vocabulary())


def need_page(need_id: int, form: NeedTransitionForm | None = None, status: int = 200):
    """A need's page as ``(response, status)``: its place, votes, trail,
    feedback and Actions panel (``form``: a refused transition to show
    again); also rendered by the feedback view on a refusal."""
    user = signed_in()
    need, actions = needs.need_actions(user, need_id)
    panel_form = form or NeedTransitionForm()
    panel_form.organization.choices = [(o.code, o.code) for o in db.session.scalars(
        select(Organization).order_by(Organization.code))]
    voted = db.session.scalar(select(NeedVote.id).where(NeedVote.need_id == need.id, NeedVote.user_id == user.id))
    return render_template("needs/detail.html", need=need, actions=[a for a in actions if a.dest],
                           history=needs.need_history(user, need_id), form=form, panel_form=panel_form,
                           voted=voted is not None, open_for_votes=need.status in needs.PUBLISHED,
                           trail=needs.need_trail(user, need.id), **_vocabulary()), status


@bp.route("/needs/<id:need_id>")
def need_detail(need_id: int):
    """One need: its place, votes, history and Actions panel."""
    return need_page(need_id)


@bp.route("/needs/<id:need_id>/transitions", methods=["POST"])
def need_transition(need_id: int):
    """Fire one step of the need workflow; a refusal is shown on the need's page."""
    user = signed_in()
    form = NeedTransitionForm()
    done, status = submit(form, lambda: needs.fire_need_transition(
        user, need_id, form.trigger.data, comment=(form.comment.data or "").strip() or None,
        if_match=form.version.data or None, organization=form.organization.data or None),
        lambda need: saved(f"Need {words(form.trigger.data)}: it is now {need_stage(need.status)}.",
                           url_for(".need_detail", need_id=need_id)))
    return done or need_page(need_id, form, status)


@bp.route("/needs/<id:need_id>/vote", methods=["POST"])
def need_vote(need_id: int):
    """Vote for the need, or withdraw one's vote (``withdraw`` in the form);
    from HTMX, the answer is the need's vote button alone."""
    user = signed_in()
    withdraw = bool(request.form.get("withdraw"))
    if withdraw:
        needs.withdraw_vote(user, need_id)
    else:
        needs.vote(user, need_id)
    if is_htmx():
        db.session.expire_all()
        return render_template("needs/_vote_button.html", need=needs.get_need_or_raise(user, need_id),
                               voted=not withdraw)
    return saved("Your vote is withdrawn." if withdraw else "Your vote is counted.",
                 url_for(".need_detail", need_id=need_id))
