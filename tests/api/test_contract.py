"""The API contract a generated client can trust (issue 10, docs/design.md §5):
what the OpenAPI document declares, the server does, and the other way round."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from services.attachments import ACCEPTED
from services.reports import REPORT_FORMATS, REPORT_KINDS
from tests.support import Chain
from web.errors import PROBLEM_TITLES
from marshmallow import ValidationError

from web.parsing import Money
from workflow.money import MAX_AMOUNT, format_amount

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/openapi.json").get_json()


def operations(spec: dict, method: str | None = None):
    """``(method, path, operation)`` of every documented operation."""
    for path, item in spec["paths"].items():
        for verb, operation in item.items():
            if verb in ("get", "post", "put", "patch", "delete") and (method is None or verb == method):
                yield verb.upper(), path, operation


def header_parameters(operation: dict) -> dict[str, dict]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}


def resolve(spec: dict, node: dict) -> dict:
    """``node``, or what its ``$ref`` points at."""
    while "$ref" in node:
        target = spec
        for part in node["$ref"].split("/")[1:]:
            target = target[part]
        node = target
    return node


def component(spec: dict, ref: str) -> dict:
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


# -- headers and problem responses -----------------------------------------------------------

def test_every_patch_operation_answers_428_without_if_match_and_changes_nothing(spec, world):
    world.admin  # noqa: B018 - the admin exists
    patches = list(operations(spec, "patch"))
    assert patches, "the document has PATCH operations"
    for _, path, operation in patches:
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = world.client.patch(url, json={}, headers=world.admin.headers)
        assert response.status_code == 428, (path, response.get_json())
        assert response.get_json()["code"] == "precondition_required"
        assert response.mimetype == "application/problem+json"
        assert header_parameters(operation)["If-Match"]["required"] is True, path
        assert {"412", "428"} <= operation["responses"].keys(), path


def test_a_patch_with_if_match_is_not_428_and_an_anonymous_one_is_401(world):
    ppa = world.create_ppa()
    url = f"/api/monitoring-entries/{ppa['id']}"

    anonymous = world.client.patch(url, json={"title": "x"})
    without = world.client.patch(url, json={"title": "Retitled"}, headers=world.focal.headers)
    unchanged = world.get(ppa["id"], world.focal)["title"]
    with_any = world.client.patch(url, json={"title": "Retitled"}, headers=world.focal.headers | {"If-Match": "*"})

    assert (anonymous.status_code, without.status_code) == (401, 428)
    assert unchanged == ppa["title"]
    assert with_any.status_code == 200 and with_any.get_json()["title"] == "Retitled"


def test_posts_declare_idempotency_key_and_transitions_if_match(spec):
    for method, path, operation in operations(spec, "post"):
        headers = header_parameters(operation)
        assert headers["Idempotency-Key"]["required"] is False, path
        assert "409" in operation["responses"], path
        if path.endswith(("/transitions", "/cancel", "/void")):
            assert headers["If-Match"]["required"] is False, path
            assert "412" in operation["responses"], path


def test_every_operation_declares_its_problem_responses_with_the_problem_schema(spec):
    for method, path, operation in operations(spec):
        responses = operation["responses"]
        assert {"401", "422", "429"} <= responses.keys(), (method, path)
        for status in ("401", "409", "412", "422", "428", "429"):
            if status in responses:
                declared = resolve(spec, responses[status])
                assert declared["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}, (method, path, status)
    assert "Retry-After" in spec["components"]["responses"]["TOO_MANY_REQUESTS"]["headers"]


def test_405_names_the_allowed_methods(world):
    ppa = world.create_ppa()

    response = world.client.put(f"/api/monitoring-entries/{ppa['id']}", json={}, headers=world.focal.headers)

    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}
    assert response.get_json()["code"] == "method_not_allowed"


# -- bodies ----------------------------------------------------------------------------------

def test_binary_responses_declare_their_media_type_as_binary(spec):
    files = {(path, media) for _, path, operation in operations(spec)
             for media, content in operation["responses"].get("200", {}).get("content", {}).items()
             if content.get("schema") == {"type": "string", "format": "binary"}}
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    documents = {("/api/attachments/{attachment_id}", media_type) for media_type in ACCEPTED}  # issue 11

    media = {"xlsx": xlsx, "pdf": "application/pdf"}
    reports = {("/api/reports/mfbm-budget-execution.xlsx", xlsx),
               ("/api/reports/mfbm-budget-execution.pdf", "application/pdf"),
               *((f"/api/reports/{name}.{fmt}", media[fmt])  # issue 13: every report as xlsx and PDF
                 for name in REPORT_KINDS for fmt in REPORT_FORMATS),
               ("/api/reports/files/{job_id}", xlsx), ("/api/reports/files/{job_id}", "application/pdf")}
    forms = {("/api/obligations/{row_id}/form.pdf", "application/pdf"),  # issue 13: the ORS and DV as GAM forms
             ("/api/disbursements/{row_id}/form.pdf", "application/pdf")}
    comparisons = {("/api/scenarios/compare.xlsx", xlsx),  # issue 16: budget scenarios compared
                   ("/api/scenarios/compare.pdf", "application/pdf")}
    analytics = {(f"/api/analytics/{view}.{fmt}", media)  # issue 16 item 6: each view's charts as PDF and PNG
                 for view in ("trends", "velocity", "needs-fulfilment", "projection")
                 for fmt, media in (("pdf", "application/pdf"), ("png", "image/png"))}
    meetings = {("/api/coordination-meetings/{meeting_id}/pre-meeting-report.xlsx", xlsx)}  # issue 15 item 6
    feedback = {("/api/reports/feedback.xlsx", xlsx),  # issue 15 item 3: the quarterly report, and the photos
                *(("/api/needs/{need_id}/feedback/{feedback_id}/photos/{photo_id}", media_type)
                  for media_type in ("image/jpeg", "image/png")),
                *(("/api/public/ppas/{ppa_id}/photos/{photo_id}", media_type)  # issue 15 item 5: completion photos
                  for media_type in ("image/jpeg", "image/png"))}
    assert files == ({("/api/audit.csv", "text/csv")} | reports | documents | forms | comparisons | analytics
                     | meetings | feedback)
    assert {media_type for _, media_type in documents} == {
        "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", xlsx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def test_response_schemas_mark_every_field_required(spec):
    responded = set()
    for _, _, operation in operations(spec):
        for status, response in operation["responses"].items():
            schema = resolve(spec, response).get("content", {}).get("application/json", {}).get("schema", {})
            schema = schema.get("items", schema)
            if "$ref" in schema and status.startswith("2"):
                responded.add(schema["$ref"])
    seen = set()
    while responded:
        ref = responded.pop()
        seen.add(ref)
        schema = component(spec, ref)
        # Every field, but one present only when the request asks for it (x-only-with says how).
        assert set(schema.get("required", [])) == {
            name for name, field in schema["properties"].items() if "x-only-with" not in field}, ref
        for field in schema["properties"].values():
            nested = field.get("items", field)
            if "$ref" in nested and nested["$ref"] not in seen:
                responded.add(nested["$ref"])
    assert "#/components/schemas/TreeNode" in seen and "#/components/schemas/Ppa" in seen


def test_null_is_sent_for_an_absent_organization_and_declared_nullable(world, spec):
    me = world.client.get("/api/me", headers=world.admin.headers).get_json()

    assert "organization" in me and me["organization"] is None
    assert spec["components"]["schemas"]["User"]["properties"]["organization"]["nullable"] is True


def test_alert_status_is_typed(spec):
    status = spec["components"]["schemas"]["Alert"]["properties"]["status"]

    assert (status["type"], status["enum"]) == ("string", ["open", "resolved"])


def test_list_items_carry_the_totals_of_single_reads(chain):
    world = chain.world
    allotment = chain.allot("100000.00")
    obligation = chain.obligate(allotment["id"], "40000.00")
    chain.disburse(obligation["id"], "1500.00")

    for listing, single in (
            (f"/api/program-budgets/{chain.program_budget}/allotments", f"/api/allotments/{allotment['id']}"),
            (f"/api/allotments/{allotment['id']}/obligations", f"/api/obligations/{obligation['id']}")):
        listed = world.client.get(listing, headers=world.focal.headers).get_json()
        read = world.client.get(single, headers=world.focal.headers).get_json()
        assert listed == [read]
    assert read["disbursed"] == "1500.00" and read["balance"] == "38500.00"


def test_x_pagination_is_a_json_string_with_its_fields_declared(world, spec):
    for title in ("A", "B", "C"):
        world.create_ppa(title=title)

    response = world.client.get("/api/monitoring-entries?page=2&page_size=2", headers=world.focal.headers)
    declared = spec["paths"]["/api/monitoring-entries"]["get"]["responses"]["200"]["headers"]["X-Pagination"]

    assert json.loads(response.headers["X-Pagination"]) == {
        "total": 3, "total_pages": 2, "page": 2, "page_size": 2, "first_page": 1, "last_page": 2,
        "previous_page": 1}
    assert declared["schema"]["type"] == "string"
    assert all(name in declared["description"] for name in ("total", "total_pages", "page", "page_size"))


# -- money ------------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_request_amount_patterns_say_what_the_parser_accepts(data):
    for options in ({}, {"allow_negative": True}, {"positive": True}, {"allow_negative": True, "nonzero": True}):
        field = Money(**options)
        pattern = field.metadata["pattern"]
        documented = data.draw(st.from_regex(pattern, fullmatch=True), label=pattern)
        field.deserialize(documented)  # what the document allows, the server accepts
        amount = format_amount(data.draw(st.decimals(-MAX_AMOUNT - 1, MAX_AMOUNT + 1, places=2), label="amount"))
        try:
            field.deserialize(amount)
        except ValidationError:
            assert not re.fullmatch(pattern, amount), (options, amount)
        else:  # and what the server accepts, the document allows (in the canonical spelling)
            assert re.fullmatch(pattern, amount), (options, amount)


def test_response_amounts_may_be_totals_above_twelve_digits_and_negative_where_they_can_be(spec):
    ppa = spec["components"]["schemas"]["Ppa"]["properties"]["budget_allocation"]["pattern"]
    variance = spec["components"]["schemas"]["WorkItem"]["properties"]["variance"]["pattern"]
    total = format_amount(Decimal("12345678901234.56"))

    assert re.fullmatch(ppa, total) and not re.fullmatch(ppa, "-" + total)
    assert re.fullmatch(variance, "-" + total)
    assert spec["components"]["schemas"]["Expenditure"]["properties"]["amount"]["pattern"].startswith("^-?")
    assert not spec["components"]["schemas"]["AllotmentCreate"]["properties"]["amount"]["pattern"].startswith("^-")


def test_a_negative_expenditure_is_accepted_and_a_negative_allotment_refused(chain):
    world = chain.world
    tree = chain.get(f"/api/monitoring-entries/{chain.ppa}/budget_allocation_tree/")["breakdown"][0]
    leaf = tree["children"][0]["children"][0]["work_item_id"]
    world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "100.00"}, headers=world.focal.headers)

    corrected = world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "-40.00"},
                                  headers=world.focal.headers)
    negative = chain.allot("-1.00", expect=422)

    assert corrected.status_code == 200 and corrected.get_json()["actual_expenditure"] == "60.00"
    assert "amount" in negative["errors"]


# -- problems ---------------------------------------------------------------------------------

def test_every_problem_code_in_the_source_has_its_one_title():
    used = set()
    for path in [*ROOT.glob("web/**/*.py"), *ROOT.glob("services/*.py"), *ROOT.glob("workflow/*.py"),
                 *ROOT.glob("jobs/*.py")]:
        text = path.read_text()
        used |= set(re.findall(r'\bcode\s*=\s*"([a-z_]+)"', text))
        used |= set(re.findall(r'problem\(\s*\d{3},\s*"([a-z_]+)"', text))
        used |= set(re.findall(r'\b\d{3}: "([a-z_]+)"', text))  # web.errors.HTTP_CODES

    assert used - PROBLEM_TITLES.keys() == set()


def test_the_same_code_has_the_same_title_whoever_raises_it(world):
    ppa = world.create_ppa()
    from_schema = world.client.post("/api/monitoring-entries", json={"title": ""}, headers=world.focal.headers)
    from_domain = world.client.post("/api/monitoring-entries", json={
        "title": "T", "category": "moa_ppa", "fiscal_year": 2025, "budget_allocation": "1.00",
        "start_date": "2025-05-01", "target_end_date": "2025-01-01"}, headers=world.focal.headers)
    stale = world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"title": "x"}, **{"If-Match": '"0"'})

    assert from_schema.get_json()["title"] == from_domain.get_json()["title"] == "Validation failed"
    assert stale.get_json()["title"] == PROBLEM_TITLES["stale_version"]


def test_422_names_the_fields_as_the_request_spells_them(world):
    ppa, leaf = world.tracked_ppa("budget_review")
    query = world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&async=maybe", headers=world.focal.headers)
    unknown = world.client.get("/api/me?colour=blue", headers=world.focal.headers)
    nested = world.client.post(f"/api/monitoring-entries/{ppa['id']}/distribute_budget/",
                               json={"method": "weighted", "weights": {str(leaf): "x"}}, headers=world.focal.headers)

    assert list(query.get_json()["errors"]) == ["async"]
    assert list(unknown.get_json()["errors"]) == ["colour"]
    assert list(nested.get_json()["errors"]) == [f"weights.{leaf}.value"]


# -- reports of a MOA focal person ------------------------------------------------------------

def test_a_focal_persons_report_names_their_moa_and_another_moas_is_404(world):
    Chain(world)
    world.other_focal  # noqa: B018 - MTIT exists

    theirs = world.client.get("/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025&moa=MTIT",
                              headers=world.focal.headers)
    own = world.client.get("/api/reports/far1.xlsx?fiscal_year=2025", headers=world.focal.headers)
    sheet = load_workbook(BytesIO(own.get_data())).active
    header = {sheet.cell(row, 1).value: sheet.cell(row, 2).value for row in range(1, 15)}  # FAR No. 1's header block
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]

    assert theirs.status_code == 404
    assert own.status_code == 200 and "FY2025_MSSD" in own.headers["Content-Disposition"]
    assert header["Agency:"] == "Organization MSSD"  # its name, no agency being set
    assert not any("All MOAs" in t or "consolidated" in t for t in texts)
