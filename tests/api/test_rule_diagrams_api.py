"""``GET /api/rules/diagram`` (issue 14 item 5): the diagrams of the rules in
force, as the CLI draws them; a bad format or workflow is a 422 naming the field."""

from __future__ import annotations

from rules.diagrams import bpmn, mermaid
from services.runtime import get_runtime


def test_the_diagram_endpoint_serves_the_mermaid_and_bpmn_of_the_rules_in_force_and_422_for_a_bad_query(app, world):
    def get(query: str):
        return world.client.get(f"/api/rules/diagram{query}", headers=world.focal.headers)

    with app.app_context():
        rules = get_runtime().rules

    default, dv, xml = get(""), get("?format=mermaid&workflow=dv"), get("?format=bpmn&workflow=ppa_approval")
    bad_format, bad_workflow, no_bpmn = get("?format=svg"), get("?workflow=nope"), get(
        "?format=bpmn&workflow=work_item_status")

    assert default.status_code == 200 and default.mimetype == "text/plain"
    assert default.get_data(as_text=True) == mermaid(rules)
    assert "approve [technical_reviewer]" in default.get_data(as_text=True)
    assert dv.get_data(as_text=True) == mermaid(rules, "dv")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert xml.get_data(as_text=True) == bpmn(rules)
    for refused, field in [(bad_format, "format"), (bad_workflow, "workflow"), (no_bpmn, "workflow")]:
        assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
        assert list(refused.get_json()["errors"]) == [field]
