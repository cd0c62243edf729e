"""The blueprints of the HTTP API, registered by ``create_app``."""

from web.api import meta, ppas

BLUEPRINTS = (ppas.blp, meta.blp)
