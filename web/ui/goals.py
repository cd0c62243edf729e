"""The public PPA pages (docs/design.md §16; issue 15 item 5):
``/public/ppas`` and ``/public/ppas/<id>``, enacted PPAs for anyone, no
account, only the fields goals.yaml lists (``services.goals.public_ppa``).
The views are thin: ``services.goals`` decides."""

from __future__ import annotations

from flask import Blueprint, render_template

from services import goals
from web.ui.pages import first_rows

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
