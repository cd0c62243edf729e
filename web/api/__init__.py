"""The blueprints of the HTTP API, registered by ``create_app``."""

from web.api import (admin, analytics, attachments, budget, coordination, delegations, feedback, goals, meta, needs,
                     operations, periods, ppas, records, scenarios, work_items)

BLUEPRINTS = (ppas.blp, attachments.blp, work_items.blp, budget.blp, periods.blp, periods.opening, operations.blp,
              records.blp, meta.blp, admin.blp, delegations.blp,
              needs.blp, goals.blp, scenarios.blp, analytics.blp, coordination.blp, feedback.blp)
