"""``/api/jobs``, ``/api/alerts``, ``/api/notifications`` (docs/design.md §7)."""

from __future__ import annotations

from flask.views import MethodView

from services import alerts, job_records, notifications
from services.alerts import AlertFilters
from web.auth import current_user
from web.pagination import SQLPage
from web.parsing import Blueprint
from web.schemas import AlertFilterSchema, AlertSchema, JobSchema, NotificationSchema

blp = Blueprint("operations", __name__, url_prefix="/api",
                description="Background jobs, alerts and the notification outbox.")


@blp.route("/jobs/<job:job_id>")
class JobOne(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """A job you requested (or your organization's; reviewers: any; a
        report job: only yours, administrators: any): its status, attempts,
        result or error."""
        return job_records.get_job_or_raise(current_user(), job_id)


@blp.route("/alerts")
class AlertCollection(MethodView):
    @blp.arguments(AlertFilterSchema, location="query")
    @blp.response(200, AlertSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, filters):
        """Alerts you may see (filters: type, severity, status=open|resolved,
        ppa, moa), newest first."""
        return alerts.list_alerts(current_user(), AlertFilters(**filters))


@blp.route("/alerts/<id:alert_id>/acknowledge")
class AlertAcknowledge(MethodView):
    @blp.response(200, AlertSchema)
    def post(self, alert_id):
        """Record that you have seen the alert; it stays open until its
        condition clears."""
        return alerts.acknowledge(current_user(), alert_id)


@blp.route("/notifications")
class NotificationCollection(MethodView):
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self):
        """Your notifications, newest first (kept here when no SMTP is configured)."""
        return notifications.list_notifications(current_user())
