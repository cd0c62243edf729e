"""``/budget-proposals`` and ``/budget-proposals/<id>``: a MOA's budget
proposal on a page (issue 12 item 8; docs/design.md §12 "Appropriations",
"In the web app").

The list shows the proposals of the user's organization (every MOA's for
MFBM, which sees them all); a proposal's page shows its program budgets
(the appropriation of each PPA, by allotment class), its history, and an
Actions panel: one button per step of the proposal workflow
(rules/default/workflows/budget_proposal.yaml: submit, review, enact,
return for revision with a required comment). A step closed to the user
is a disabled button with the reason in words (``services.workflows``),
e.g. "you submitted this budget proposal, so another person must review
it". The views are thin: ``services.budget`` decides.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from sqlalchemy import select

from db import db
from db.models import ProgramBudget, User
from services import budget
from services.runtime import get_runtime
from web.ui.filters import words
from web.ui.forms import TransitionForm
from web.ui.pages import first_rows, saved, signed_in, submit

bp = Blueprint("proposals", __name__)

#: The workflow of budget proposals (rules/default/workflows/budget_proposal.yaml).
WORKFLOW = "budget_proposal"

#: How many proposals the list shows (one per MOA and fiscal year: a few dozen at most).
LIST_SIZE = 200

#: What a step did, as a flash message says it.
DONE = {"submit": "submitted", "review": "reviewed", "enact": "marked enacted",
        "return_for_revision": "returned for revision"}


def proposal_stage(stage: str) -> str:
    """The label of a proposal stage from the rules (``submitted`` -> ``Submitted to MFBM``)."""
    state = get_runtime().workflow(WORKFLOW).rules.machine.states.get(stage)
    return state.label if state is not None else words(stage)


@bp.route("/budget-proposals")
def proposal_list():
    """The budget proposals the user may see, newest first."""
    user = signed_in()
    proposals = first_rows(budget.list_proposals(user), LIST_SIZE)
    return render_template("proposals/list.html", proposals=proposals, stage=proposal_stage)


def _proposal_page(user: User, proposal_id: int, form: TransitionForm | None = None, status: int = 200):
    proposal, actions = budget.proposal_actions(user, proposal_id)
    program_budgets = list(db.session.scalars(select(ProgramBudget).where(ProgramBudget.proposal_id == proposal.id)
                                              .order_by(ProgramBudget.id)))
    history = budget.proposal_history(user, proposal_id)
    actors = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({step.actor_id for step in history})))} if history else {}
    return render_template("proposals/detail.html", proposal=proposal, actions=[a for a in actions if a.dest],
                           program_budgets=program_budgets, history=history, actors=actors, form=form,
                           stage=proposal_stage), status


@bp.route("/budget-proposals/<id:proposal_id>")
def proposal_detail(proposal_id: int):
    """One proposal: its program budgets, its history and its Actions panel."""
    return _proposal_page(signed_in(), proposal_id)


@bp.route("/budget-proposals/<id:proposal_id>/transitions", methods=["POST"])
def proposal_transition(proposal_id: int):
    """Fire one step of the proposal workflow from the Actions panel; a
    refusal (a comment missing, a stale version, a step closed to the user)
    is shown on the proposal's page and changes nothing."""
    user = signed_in()
    form = TransitionForm()
    done, status = submit(form, lambda: budget.fire_proposal_transition(
        user, proposal_id, form.trigger.data, comment=(form.comment.data or "").strip() or None,
        if_match=form.version.data or None),
        lambda proposal: saved(f"Budget proposal {DONE.get(form.trigger.data, words(form.trigger.data))}: it is "
                               f"now {proposal_stage(proposal.status)}.",
                               url_for(".proposal_detail", proposal_id=proposal_id)))
    return done or _proposal_page(user, proposal_id, form, status)
