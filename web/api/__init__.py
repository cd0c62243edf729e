"""The blueprints of the HTTP API, registered by ``create_app``."""

from web.api import meta, ppas, work_items

BLUEPRINTS = (ppas.blp, work_items.blp, meta.blp)
