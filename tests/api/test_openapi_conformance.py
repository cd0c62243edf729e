"""schemathesis against ``/api/openapi.json`` (issue 6): for generated
requests to every operation, valid and invalid, the API never answers 5xx
and every response matches its documented status codes, content type and
schema.

Runs in-process on each database backend, seeded with the examples and a
full budget chain, as an administrator (who may call everything). ``SCHEMATHESIS_MAX_EXAMPLES``
sets the examples per operation and generation mode (default 20); the
number of cases run is printed at the end of the session.

Each operation and mode is its own test, driven by ``APIOperation.as_strategy``
under plain hypothesis: schemathesis' lazy ``from_fixture`` loader reads a
pytest-internal attribute that pytest 9 removed.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from db import db
from tests.conftest import BACKENDS, _dispose, _make_app
from tests.support import SCHEMATHESIS_CASES, Chain, World
from web import create_app

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", 20))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def operation_labels() -> list[str]:
    """``"METHOD /path"`` of every documented operation, read from the
    OpenAPI document of an app on an in-memory database."""
    application = create_app({"DATABASE_URL": "sqlite://", "REDIS_URL": None, "TESTING": True})
    labels = [result.ok().label for result in
              schemathesis.openapi.from_wsgi("/api/openapi.json", application).get_all_operations()]
    with application.app_context():
        db.engine.dispose()
    return labels


@pytest.fixture(scope="module", params=BACKENDS)
def seeded_app(request, tmp_path_factory):
    application = _make_app(request.param, request, tmp_path_factory.mktemp("schemathesis"),
                            IDEMPOTENCY_WAIT_SECONDS=1)
    world = World(application)
    chain = Chain(world)
    obligation = chain.obligate(chain.allot("100000.00")["id"], "50000.00")
    chain.disburse(obligation["id"], "100.00")
    application.config["ADMIN_TOKEN"] = world.admin.token
    yield application
    _dispose(application)


@pytest.fixture(scope="module")
def api_schema(seeded_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", seeded_app)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize("label", operation_labels())
def test_every_operation_answers_as_documented(label, mode, api_schema, seeded_app, pytestconfig):
    operation = api_schema.find_operation_by_label(label)
    headers = {"Authorization": f"Bearer {seeded_app.config['ADMIN_TOKEN']}"}

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case):
        pytestconfig.stash[SCHEMATHESIS_CASES] = pytestconfig.stash.get(SCHEMATHESIS_CASES, 0) + 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()
