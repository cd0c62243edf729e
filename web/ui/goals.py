"""The public PPA pages (docs/design.md §16; issue 15 item 5):
``/public/ppas`` and ``/public/ppas/<id>``, enacted PPAs for anyone, no
account, only the fields goals.yaml lists (``services.goals.public_ppa``).
For signed-in users (issue 15 item 8): ``/goals``, the strategic goals with
their progress, and ``/goals/alignment``, the alignment check and the MOA x
goal matrix. The views are thin: ``services.goals`` decides."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from db import db
from services import goals
from web.ui.pages import first_rows, signed_in

bp = Blueprint("goals", __name__)

#: How many PPAs the public list shows (newest first).
LIST_SIZE = 200

#: The endpoints anyone may open (added to ``web.ui.PUBLIC_ENDPOINTS``).
PUBLIC = frozenset({"ui.goals.public_ppa_list", "ui.goals.public_ppa_detail"})


@bp.route("/public/ppas")
def public_ppa_list():
    """The enacted PPAs, newest first, for anyone."""
    return render_template("goals/public_ppa_list.html",
                           ppas=goals.public_ppas(first_rows(goals.list_public_ppas(), LIST_SIZE)))


@bp.route("/public/ppas/<id:ppa_id>")
def public_ppa_detail(ppa_id: int):
    """One enacted PPA: its money, progress, needs and goals, for anyone."""
    return render_template("goals/public_ppa.html", ppa=goals.public_ppa(goals.get_public_ppa(ppa_id)))


@bp.route("/goals")
def goal_list():
    """The strategic goals with their progress, budget and PPAs."""
    user = signed_in()
    return render_template("goals/list.html",
                           goals=goals.goal_views(user, list(db.session.scalars(goals.list_goals()))))


@bp.route("/goals/alignment")
def alignment():
    """The alignment check (goals without PPAs, PPAs without goals) and the
    MOA x goal matrix, for a fiscal year or all."""
    user = signed_in()
    year = request.args.get("fiscal_year", type=int)
    year = year if year and 1900 < year < 3000 else None
    cells = goals.alignment_matrix(user, year)
    moas = list(dict.fromkeys(c["moa"] for c in cells))
    columns = sorted({(c["goal_id"], c["goal"]) for c in cells})
    matrix = {(c["moa"], c["goal_id"]): c for c in cells}
    return render_template("goals/alignment.html", check=goals.alignment(user, year), moas=moas, columns=columns,
                           matrix=matrix, fiscal_year=year)
