"""A service's refusal is a readable page: its status, title and sentence (issue 11)."""

from __future__ import annotations

import pytest

from services import alerts
from web.errors import PROBLEM_TITLES
from workflow.errors import Conflict, Forbidden, NotFound


@pytest.mark.parametrize(("error", "status"), [
    (Forbidden("to acknowledge alerts you need the role technical_reviewer"), 403),
    (NotFound("alert 7 not found"), 404),
    (Conflict("the alert was resolved while you were looking at it"), 409),
])
def test_a_domain_error_becomes_a_page_that_says_why(app, world, browser_for, monkeypatch, error, status):
    browser = browser_for(world.technical_reviewer)

    def refuse(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(alerts, "acknowledge", refuse)
    response = browser.post_form("/alerts/7/acknowledge", page="/alerts")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert PROBLEM_TITLES[error.code] in page and error.detail in page
    assert response.mimetype == "text/html"


def test_an_unknown_page_is_an_html_404_and_an_unknown_api_path_stays_problem_json(app):
    client = app.test_client()
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get("/api/no-such-endpoint")
    assert api.status_code in (401, 404) and api.mimetype == "application/problem+json"
