"""The application factory (flaskr's habit: no side effects at import)."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from flask_smorest.spec.plugins import integerconverter2paramschema
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

import db.models  # noqa: F401  (registers the models)
from db import audit, db
from jobs import runner
from jobs.queue import enqueue
from jobs.registry import KINDS, known_jobs
from rules import load_rules
from services import background, rule_sets, runtime, unit_of_work
from services.effects import known_effects
from services.workflows import required_workflows
from services.unit_of_work import transaction
from web import auth, contract, errors, health, idempotency, logs, parsing, ratelimit, ui
from web.api import BLUEPRINTS
from web.config import settings
from web.jsonio import JSONProvider
from web.parsing import JobIdConverter, Money, Percent, RowIdConverter

OPENAPI = {
    "API_TITLE": "ppaflow",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    # Swagger UI is vendored (web/static/README.md): no CDN.
    "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
}


class PpaflowFlask(Flask):
    """Flask with ppaflow's JSON provider (orjson) and request class (a
    streamed body over ``MAX_CONTENT_LENGTH`` is 413, ``web.parsing.Request``),
    running every ``/api`` request as one unit of work."""

    json_provider_class = JSONProvider
    request_class = parsing.Request

    def dispatch_request(self) -> Response:
        """Run the view of an ``/api`` request in one ``transaction()`` that
        commits only once the response (status, headers, body) is built.

        The services the view calls join that transaction, so nothing the
        response shows is read after the COMMIT: a database that goes away
        right after it cannot turn saved work into a 503 (which tells the
        client to retry, and a retry would record an obligation or payment
        twice). See ``services.unit_of_work`` for what each failure answers.
        """
        if not request.path.startswith("/api"):
            return super().dispatch_request()
        with transaction():
            return self.make_response(super().dispatch_request())


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the ppaflow Flask application.

    Args:
        config: overrides of the environment (``DATABASE_URL``, ``REDIS_URL``,
            ``PPAFLOW_RULES_DIR``, ``SECRET_KEY``, ...; see ``web.config``).

    Returns:
        The app, with the database, the rules, the API and auth set up. No
        connection is opened until a request or command needs one.

    Raises:
        RulesError: the rule set is broken; the server refuses to start.
        ConfigurationError: a setting has an unusable value (``web.config``).
    """
    app = PpaflowFlask("web", instance_relative_config=True)
    values = settings(app.instance_path, config)
    app.config.update(values)
    app.config.update(OPENAPI)
    app.config["SQLALCHEMY_DATABASE_URI"] = values["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(values["DATABASE_URL"])
    app.url_map.strict_slashes = False
    if values["TRUSTED_PROXIES"]:
        # The client's address and scheme as the trusted proxies saw them (rate limits, logs);
        # without them X-Forwarded-* are ignored, so a client cannot pick its own address.
        hops = values["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    # The services reach the jobs only through what is handed in here (docs/design.md §1 "Direction of imports").
    background.use_enqueue(enqueue)
    runner.use_kinds(KINDS)
    runtime.use_code_checks(known_effects=known_effects(), known_jobs=known_jobs(),
                            required_workflows=required_workflows())
    runtime.init_app(app, load_rules(values["PPAFLOW_RULES_DIR"], **runtime.code_checks()))
    db.init_app(app)
    audit.install()
    unit_of_work.install()
    if values["DATABASE_URL"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)

    api = errors.ProblemApi(app, spec_kwargs={
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    })
    app.url_map.converters["id"] = RowIdConverter
    app.url_map.converters["job"] = JobIdConverter
    api.register_converter(RowIdConverter, integerconverter2paramschema)
    api.register_converter(JobIdConverter, lambda _converter: JobIdConverter.SCHEMA)
    api.register_field(Money, "string", None)
    api.ma_plugin.converter.add_attribute_function(parsing.document_text)
    api.register_field(Percent, "number", None)
    errors.init_app(app)
    # Order matters: request id, clock, rate limit, authentication, If-Match on PATCH, query check,
    # idempotency.
    auth.init_request_ids(app)
    logs.init_app(app)
    limiter = ratelimit.init_app(app)
    auth.init_app(app)
    contract.init_app(app)
    parsing.init_app(app)
    idempotency.init_app(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    ui.init_app(app, limiter, api)
    rule_sets.init_app(app)  # keep the loaded rule set in the database (issue 14, docs/design.md §13)
    return app


def tune_gc() -> None:
    """Collect garbage less often in a serving process.

    A large budget tree builds tens of thousands of short-lived dicts per
    request; with CPython's default gen-0 threshold (700) the collector runs
    hundreds of times per request and doubles its cost. Nearly all of these
    objects die by reference counting, so a higher threshold only delays
    cyclic garbage. Called by ``ppaflow serve``, the gunicorn workers and the
    benchmarks, never at import.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def engine_options(url: str) -> dict[str, Any]:
    """Connection pool settings: pre-ping so a restarted database is noticed
    and reconnected without a manual step."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}


def _sqlite_pragmas(connection, _record) -> None:
    """Foreign keys on; WAL so readers do not block the writer."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()
