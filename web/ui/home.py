"""``/``: My work (issue 11) — the PPAs waiting for an action the user may
take now, with stage, due date and overdue days, their open and closed
actions (closed ones say why), and the open alerts the user can see."""

from __future__ import annotations

from flask import Blueprint, render_template

from services import alerts
from services.alerts import AlertFilters
from services.my_work import my_work as work_of
from web.ui.pages import Pagination, first_rows, page_number, signed_in

bp = Blueprint("home", __name__)

#: Open alerts shown on My work (all of them are on /alerts).
ALERTS_SHOWN = 10


@bp.route("/")
def my_work():
    """My work, a page of 50 PPAs at a time, oldest stage entry first."""
    user = signed_in()
    work = work_of(user, page=page_number())
    open_alerts = first_rows(alerts.list_alerts(user, AlertFilters(status="open")), ALERTS_SHOWN)
    return render_template("home/my_work.html", work=work,
                           pagination=Pagination(work.page, work.page_size, work.total), alerts=open_alerts)
