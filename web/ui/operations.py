"""``/alerts`` and ``/notifications`` (docs/design.md §7, §11): the alerts the
user may see, filtered and acknowledged; the user's own notifications, read
in the app and marked read. Buttons work as plain forms and, with HTMX,
replace only their row."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from services import alerts, notifications
from services.alerts import AlertFilters
from web.ui.forms import AlertFilterForm
from web.ui.pages import is_htmx, paginate, same_site_path, signed_in

bp = Blueprint("operations", __name__)


@bp.route("/alerts")
def alert_list():
    """Alerts, open ones first by default; filters: status, type, severity, MOA."""
    form = AlertFilterForm()
    filters = AlertFilters(status=form.status.data or None, type=form.type.data or None,
                           severity=form.severity.data or None, moa=(form.moa.data or "").strip().upper() or None)
    rows, pagination = paginate(alerts.list_alerts(signed_in(), filters))
    return render_template("operations/alerts.html", form=form, alerts=rows, pagination=pagination)


@bp.route("/alerts/<id:alert_id>/acknowledge", methods=["POST"])
def acknowledge(alert_id: int):
    """Acknowledge an alert (it stays open until its condition clears)."""
    alert = alerts.acknowledge(signed_in(), alert_id)
    if is_htmx():
        return render_template("_alert_row.html", alert=alert)
    return redirect(same_site_path(request.referrer) or url_for(".alert_list"))


@bp.route("/notifications")
def notification_list():
    """The user's notifications, newest first."""
    rows, pagination = paginate(notifications.list_notifications(signed_in()))
    return render_template("operations/notifications.html", notifications=rows, pagination=pagination)


@bp.route("/notifications/<id:notification_id>/read", methods=["POST"])
def mark_read(notification_id: int):
    """Mark one notification read."""
    notifications.mark_read(signed_in(), notification_id)
    if is_htmx():
        note = notifications.get_notification_or_raise(signed_in(), notification_id)
        return render_template("_notification_row.html", note=note)
    return redirect(same_site_path(request.referrer) or url_for(".notification_list"))


@bp.route("/notifications/read-all", methods=["POST"])
def mark_all_read():
    """Mark every notification of the user read."""
    notifications.mark_read(signed_in())
    return redirect(url_for(".notification_list"))
