"""``/ppas/<id>``: a PPA, read-only for now — the target of every PPA link
of the other pages. The list, the edit forms and the tabs (details, actions,
work items, budget, execution, history) of issue 11 are built here next,
on the same foundation.

Access is exactly the API's: a PPA the user may not see is a 404 page.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from services import approvals
from services.calendar import stage_due_date
from web.ui.pages import signed_in

bp = Blueprint("ppas", __name__)


@bp.route("/ppas/<id:ppa_id>")
def detail(ppa_id: int):
    """The PPA's fields, stage and due date, the actions as the user sees
    them, and its approval history."""
    user = signed_in()
    ppa, actions = approvals.available_actions(user, ppa_id)
    return render_template("ppas/detail.html", ppa=ppa, actions=actions,
                           due_day=stage_due_date(ppa.approval_status, ppa.stage_entered_at),
                           history=approvals.history(user, ppa_id))
