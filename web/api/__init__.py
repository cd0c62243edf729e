"""The blueprints of the HTTP API, registered by ``create_app``."""

from web.api import meta, operations, ppas, work_items

BLUEPRINTS = (ppas.blp, work_items.blp, operations.blp, meta.blp)
