"""Helpers shared by the tests: people with tokens, PPAs over the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from services import users

SCHEMATHESIS_CASES = pytest.StashKey[int]()
"""How many schemathesis cases ran this session (on ``config.stash``)."""


@dataclass(frozen=True)
class Person:
    """A test user and the headers that authenticate as them."""

    id: int
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def ppa_body(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/monitoring-entries`` body (the seeds' Livelihood
    Training Program), with overrides."""
    body = {
        "title": "Livelihood Training Program for OBCs FY2025",
        "summary": "Skills training for OBC members.",
        "category": "oobc_ppa",
        "fiscal_year": 2025,
        "sector": "social",
        "appropriation_class": "mooe",
        "start_date": "2025-02-03",
        "target_end_date": "2025-12-15",
        "budget_allocation": "5000000.00",
    }
    body.update(overrides)
    return body


class World:
    """Creates organizations, users (with tokens) and PPAs for a test."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self._people: dict[str, Person] = {}

    def org(self, code: str, name: str | None = None) -> str:
        with self.app.app_context():
            users.ensure_organization(code, name or f"Organization {code}")
        return code

    def person(self, username: str, *roles: str, org: str | None = None) -> Person:
        """Create (once) a user with ``roles`` in ``org`` and a token."""
        if username not in self._people:
            if org:
                self.org(org)
            with self.app.app_context():
                user, token = users.add_user(username, roles, organization=org)
                self._people[username] = Person(user.id, username, token)
        return self._people[username]

    # The cast of DESIGN §3: one person per role.
    @property
    def focal(self) -> Person:
        return self.person("mssd.focal", "moa_focal", org="MSSD")

    @property
    def other_focal(self) -> Person:
        return self.person("mtit.focal", "moa_focal", org="MTIT")

    @property
    def technical_reviewer(self) -> Person:
        return self.person("bpda.reviewer", "technical_reviewer", org="BPDA")

    @property
    def budget_analyst(self) -> Person:
        return self.person("mfbm.analyst", "budget_analyst", org="MFBM")

    @property
    def planning_officer(self) -> Person:
        return self.person("bpda.planner", "planning_officer", org="BPDA")

    @property
    def executive(self) -> Person:
        return self.person("ocm.executive", "executive", org="OCM")

    @property
    def admin(self) -> Person:
        return self.person("admin", "admin")

    def reviewer_for(self, stage: str) -> Person:
        """The person whose role reviews ``stage`` (or fires its way out)."""
        return {
            "draft": self.focal,
            "technical_review": self.technical_reviewer,
            "budget_review": self.budget_analyst,
            "stakeholder_consultation": self.planning_officer,
            "executive_approval": self.executive,
            "approved": self.budget_analyst,
        }[stage]

    # PPAs, over the API ----------------------------------------------------
    def create_ppa(self, author: Person | None = None, **overrides: Any) -> dict:
        author = author or self.focal
        response = self.client.post("/api/monitoring-entries", json=ppa_body(**overrides), headers=author.headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def fire(self, ppa_id: int, trigger: str, by: Person, comment: str | None = None, **headers):
        body = {"trigger": trigger} | ({"comment": comment} if comment is not None else {})
        return self.client.post(f"/api/monitoring-entries/{ppa_id}/transitions", json=body,
                                headers=by.headers | headers)

    def advance(self, ppa_id: int, to_stage: str) -> dict:
        """Approve a PPA (from draft) stage by stage until it is in ``to_stage``."""
        path = ["draft", "technical_review", "budget_review", "stakeholder_consultation",
                "executive_approval", "approved", "enacted"]
        ppa = self.get(ppa_id, self.admin)
        while ppa["approval_status"] != to_stage:
            stage = ppa["approval_status"]
            trigger = {"draft": "submit", "approved": "enact"}.get(stage, "approve")
            response = self.fire(ppa_id, trigger, self.reviewer_for(stage))
            assert response.status_code == 200, response.get_json()
            ppa = response.get_json()
            assert path.index(ppa["approval_status"]) <= path.index(to_stage)
        return ppa

    def tracked_ppa(self, to_stage: str) -> tuple[dict, int]:
        """A PPA with the ``minimal`` WBS, advanced to ``to_stage``; returns it
        and the id of the first task of its first activity."""
        ppa = self.create_ppa(wbs_template="minimal")
        self.advance(ppa["id"], to_stage)
        tree = self.client.get(f"/api/monitoring-entries/{ppa['id']}/budget_allocation_tree/",
                               headers=self.focal.headers).get_json()
        return ppa, tree["breakdown"][0]["children"][0]["work_item_id"]

    def get(self, ppa_id: int, who: Person) -> dict:
        response = self.client.get(f"/api/monitoring-entries/{ppa_id}", headers=who.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def shipped_rules(directory=None):
    """The rules as the app loads them (with the effect registry)."""
    from jobs.registry import known_jobs
    from rules import load_rules
    from services.effects import known_effects

    return load_rules(directory, known_effects=known_effects(), known_jobs=known_jobs())
