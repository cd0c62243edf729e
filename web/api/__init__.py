"""The blueprints of the HTTP API, registered by ``create_app``."""

from web.api import admin, attachments, budget, delegations, meta, needs, operations, periods, ppas, records, work_items

BLUEPRINTS = (ppas.blp, attachments.blp, work_items.blp, budget.blp, periods.blp, periods.opening, operations.blp,
              records.blp, meta.blp, admin.blp, delegations.blp,
              needs.blp)
