"""Who may call what (issue 6): every API endpoint x every role x own/other
organization -> the expected status, generated from one table.

Access control is the services' and views' own, not the database's, so the
matrix runs on one backend (``ONE_BACKEND``), against one world built once
for the module; each row's writes are rolled back (``rolled_back``), so
every row sees the world as built.

``ok`` means the request got past access control (a 2xx, or a domain
answer such as 409 or 422 that only someone allowed can get); otherwise the
exact status: 401 without a token, 403 for a role that may not, 404 for
what another MOA's focal person may not even see.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import update

from db import db
from db.models import Ppa
from services import users
from services.reports import REPORT_FORMATS, REPORT_KINDS
from tests import documents
from tests.conftest import ONE_BACKEND, _dispose, _make_app
from tests.support import Chain, World, rolled_back

ROLES = ("anonymous", "focal", "other_focal", "technical_reviewer", "budget_analyst", "planning_officer",
         "executive", "admin")
REVIEWERS = ("technical_reviewer", "budget_analyst", "planning_officer", "executive")


def expect(default="ok", **overrides) -> dict[str, object]:
    """Expected status per role: 401 for the anonymous caller, ``default``
    for the rest, except ``overrides``."""
    out = {role: default for role in ROLES} | {"anonymous": 401}
    for role, status in overrides.items():
        if role == "reviewers":
            out |= {r: status for r in REVIEWERS}
        else:
            out[role] = status
    return out


SEE = expect(other_focal=404)                                        # read one thing of the MOA
MOA_WRITES = expect(other_focal=404, reviewers=403)                  # what the MOA's focal person does
ANALYST = expect(other_focal=404, focal=403, reviewers=403, budget_analyst="ok")
PREPARE = expect(other_focal=404, reviewers=403, budget_analyst="ok")
EVERYONE = expect()
REQUESTER = expect(404, focal="ok", admin="ok")                      # a report job: who asked for it (issue 10)
ADMIN_ONLY = expect(403, admin="ok")                                 # administration (issue 10)
PLANNER = expect(403, planning_officer="ok", admin="ok")             # the development plan (issue 15)
APPOINT = PLANNER | {"other_focal": 404}                              # a MOA's focal persons, meetings (issue 15)
DELEGATOR = expect(404, technical_reviewer="ok", admin="ok")         # a delegation: its delegator (issue 14)
SCENARIOS = expect(403, budget_analyst="ok", planning_officer="ok", executive="ok", admin="ok")
LEND = {"role": "technical_reviewer", "delegator": "bpda.reviewer", "delegate": "ocm.executive",
        "expires_at": "2099-06-14T17:00:00+08:00", "reason": "on leave"}

#: A body holding this as ``file`` is sent as a multipart upload of a small PDF.
DOCUMENT = "<a PDF>"

# (method, path, body, expected) -- the path's {names} come from the world below.
MATRIX = [
    ("GET", "/api/me", None, EVERYONE),
    ("GET", "/api/rules", None, EVERYONE),
    ("GET", "/api/rules/diagram?format=bpmn", None, EVERYONE),  # issue 14 item 5
    ("GET", "/api/rules/{rule_set}", None, EVERYONE),
    ("GET", "/api/calendar?year=2026", None, EVERYONE),  # issue 14 item 8
    ("GET", "/api/me/calendar", None, EVERYONE),  # issue 16 item 5
    ("POST", "/api/me/calendar/rotate", None, EVERYONE),
    ("GET", "/api/wbs-templates/activity/preview?budget=5000000.00&start_date=2025-01-01&end_date=2025-12-31",
     None, EVERYONE),  # issue 14 item 6
    ("GET", "/api/monitoring-entries", None, EVERYONE),
    ("POST", "/api/monitoring-entries", {"title": "New", "category": "moa_ppa", "fiscal_year": 2025,
                                         "budget_allocation": "1.00", "implementing_moa": "MSSD"},
     expect(other_focal=403, reviewers=403)),
    ("GET", "/api/monitoring-entries/{draft}", None, SEE),
    ("PATCH", "/api/monitoring-entries/{draft}", {"summary": "edited"}, MOA_WRITES),
    ("GET", "/api/monitoring-entries/{draft}/actions", None, SEE),
    ("POST", "/api/monitoring-entries/{draft}/actions/simulate", {"username": "mssd.focal"}, ADMIN_ONLY),
    ("POST", "/api/monitoring-entries/{draft}/actions/move", {"stage": "technical_review", "comment": "stuck"},
     ADMIN_ONLY),  # issue 14 item 2: the escape hatch
    ("GET", "/api/monitoring-entries/{draft}/history", None, SEE),
    ("GET", "/api/monitoring-entries/{draft}/attachments", None, SEE),
    ("POST", "/api/monitoring-entries/{draft}/attachments", {"file": DOCUMENT}, MOA_WRITES),
    ("GET", "/api/attachments/{attachment}", None, SEE),
    ("POST", "/api/monitoring-entries/{draft}/transitions", {"trigger": "submit"}, MOA_WRITES),
    ("POST", "/api/monitoring-entries/{reviewing}/transitions", {"trigger": "approve"},
     expect(other_focal=404, focal=403, reviewers=403, technical_reviewer="ok")),
    ("POST", "/api/monitoring-entries/{reviewing}/enable_workitem_tracking/", {}, MOA_WRITES),
    ("GET", "/api/monitoring-entries/{tracked}/budget_allocation_tree/", None, SEE),
    ("POST", "/api/monitoring-entries/{tracked}/distribute_budget/", {"method": "equal"}, MOA_WRITES),
    ("POST", "/api/monitoring-entries/{tracked}/sync_from_workitem/", None, MOA_WRITES),
    ("GET", "/api/monitoring-entries/{tracked}/program-budgets", None, SEE),
    ("GET", "/api/monitoring-entries/{tracked}/execution-plan", None, SEE),
    ("PUT", "/api/monitoring-entries/{tracked}/execution-plan",
     {"lines": [{"month": 1, "allotment_class": "mooe", "obligations_planned": "1.00"}]}, MOA_WRITES),
    ("GET", "/api/monitoring-entries/{tracked}/execution-plan/variance?as_of=2025-06-30", None, SEE),
    ("POST", "/api/work-items", {"parent_id": "{root}", "work_type": "task", "title": "Extra"}, MOA_WRITES),
    ("GET", "/api/work-items/{leaf}", None, SEE),
    ("PATCH", "/api/work-items/{leaf}", {"budget_notes": "checked"}, MOA_WRITES),
    ("GET", "/api/work-items/{root}/children", None, SEE),
    ("POST", "/api/work-items/{leaf}/expenditures", {"amount": "1.00"}, MOA_WRITES),
    ("POST", "/api/work-items/{leaf}/transitions", {"trigger": "start"}, MOA_WRITES),
    ("GET", "/api/work-items/{leaf}/dependencies", None, SEE),
    ("POST", "/api/work-items/{leaf}/dependencies", {"predecessor_id": "{root}"}, MOA_WRITES),
    ("DELETE", "/api/work-items/{leaf}/dependencies/{root}", None, MOA_WRITES),
    ("GET", "/api/monitoring-entries/{tracked}/earned_value", None, SEE),
    ("GET", "/api/monitoring-entries/{tracked}/critical_path", None, SEE),
    ("GET", "/api/budget-proposals", None, EVERYONE),
    ("POST", "/api/budget-proposals", {"organization": "MSSD", "fiscal_year": 2026, "title": "FY2026"},
     expect(other_focal=403, reviewers=403, budget_analyst="ok")),
    ("GET", "/api/budget-proposals/{proposal}", None, SEE),
    ("GET", "/api/budget-proposals/{proposal}/actions", None, SEE),
    ("GET", "/api/budget-proposals/{proposal}/history", None, SEE),
    ("POST", "/api/budget-proposals/{draft_proposal}/transitions", {"trigger": "submit"}, MOA_WRITES),
    ("POST", "/api/program-budgets", {"proposal_id": "{proposal}", "ppa_id": "{draft}", "approved_amount": "1.00"},
     expect(other_focal=404, focal=403, reviewers=403, budget_analyst="ok")),
    ("GET", "/api/program-budgets/{program_budget}", None, SEE),
    ("PATCH", "/api/program-budgets/{program_budget}", {"approved_amount": "5000000.00"}, ANALYST),
    ("GET", "/api/program-budgets/{program_budget}/justifications", None, SEE),
    ("POST", "/api/program-budgets/{program_budget}/justifications", {"title": "Need", "narrative": "Because."},
     PREPARE),
    ("GET", "/api/program-budgets/{program_budget}/line-items", None, SEE),
    ("POST", "/api/program-budgets/{program_budget}/line-items",
     {"uacs_code": "50202010-01", "description": "Training", "amount": "1.00"}, PREPARE),
    ("GET", "/api/program-budgets/{program_budget}/allotments", None, SEE),
    ("GET", "/api/program-budgets/{program_budget}/adjustments", None, SEE),
    ("POST", "/api/program-budgets/{program_budget}/adjustments",
     {"kind": "augmentation", "amount": "1.00", "allotment_class": "mooe", "adjustment_date": "2025-07-01",
      "reason": "r", "legal_basis": "BAA"}, ANALYST),
    ("POST", "/api/allotments", {"program_budget_id": "{program_budget}", "quarter": 3, "release_date": "2025-07-01",
                                 "saro_number": "SARO-{role}", "amount": "1.00"}, ANALYST),
    ("GET", "/api/allotments/{allotment}", None, SEE),
    ("POST", "/api/allotments/{spare_allotment}/cancel", {"reason": "not needed"}, ANALYST),
    ("GET", "/api/allotments/{allotment}/obligations", None, SEE),
    ("GET", "/api/allotments/{allotment}/adjustments", None, SEE),
    ("POST", "/api/allotments/{allotment}/adjustments", {"kind": "augmentation", "amount": "1.00",
                                                         "adjustment_date": "2025-07-01", "reason": "r",
                                                         "legal_basis": "DBM letter"}, ANALYST),
    # The MOA's budget officer realigns and sub-allots too (tests/api/test_transfers_api.py); its focal person not.
    ("POST", "/api/allotments/{allotment}/realignments", {"to_allotment_id": "{spare_allotment}", "amount": "1.00",
                                                          "adjustment_date": "2025-07-01", "reason": "r",
                                                          "legal_basis": "DBM letter"}, ANALYST),
    ("GET", "/api/allotments/{allotment}/sub-allotments", None, SEE),
    ("POST", "/api/allotments/{allotment}/sub-allotments", {"recipient": "MTIT", "amount": "1.00",
                                                            "sub_allotment_date": "2025-07-01",
                                                            "saro_number": "SUB-{role}", "reason": "r",
                                                            "legal_basis": "DBM letter"}, ANALYST),
    ("POST", "/api/obligations", {"allotment_id": "{allotment}", "payee": "P {role}",
                                  "obligation_date": "2025-04-01", "amount": "1.00"}, MOA_WRITES),
    ("GET", "/api/obligations/{obligation}", None, SEE),
    ("POST", "/api/obligations/{spare_obligation}/cancel", {"reason": "rescinded"}, MOA_WRITES),
    ("GET", "/api/obligations/{obligation}/disbursements", None, SEE),
    ("GET", "/api/obligations/{obligation}/adjustments", None, SEE),
    ("POST", "/api/obligations/{obligation}/adjustments", {"amount": "1.00", "adjustment_date": "2025-07-01",
                                                           "reason": "r", "legal_basis": "NORSA"}, MOA_WRITES),
    ("GET", "/api/obligations/{obligation}/attachments", None, SEE),
    ("GET", "/api/obligations/{obligation}/form.pdf", None, SEE),
    ("POST", "/api/obligations/{obligation}/attachments", {"file": DOCUMENT}, PREPARE),
    ("GET", "/api/obligations/{obligation}/deliveries", None, SEE),
    ("POST", "/api/obligations/{obligation}/deliveries", {"amount": "1.00", "accepted_on": "2025-04-02"},
     MOA_WRITES),
    ("POST", "/api/disbursements", {"obligation_id": "{obligation}",
                                    "payment_method": "other", "disbursement_date": "2025-05-01", "amount": "1.00"},
     MOA_WRITES),
    ("GET", "/api/disbursements/{disbursement}", None, SEE),
    ("GET", "/api/obligations/{draft_ors}/actions", None, SEE),
    ("GET", "/api/obligations/{obligation}/history", None, SEE),
    ("POST", "/api/obligations/{draft_ors}/transitions", {"trigger": "certify_charges"},
     expect(other_focal=404, focal=403, reviewers=403)),  # Box A: the MOA's head of office (admin is bound too)
    ("GET", "/api/disbursements/{draft_dv}/actions", None, SEE),
    ("GET", "/api/disbursements/{disbursement}/history", None, SEE),
    ("POST", "/api/disbursements/{draft_dv}/transitions", {"trigger": "certify_necessary"},
     expect(other_focal=404, focal=403, reviewers=403)),
    ("POST", "/api/disbursements/{disbursement}/void", {"reason": "duplicate"}, MOA_WRITES),
    ("GET", "/api/disbursements/{disbursement}/attachments", None, SEE),
    ("GET", "/api/disbursements/{disbursement}/form.pdf", None, SEE),
    ("POST", "/api/disbursements/{disbursement}/attachments", {"file": DOCUMENT}, PREPARE),
    ("GET", "/api/period-closures", None, EVERYONE),
    ("POST", "/api/period-closures", {"organization": "MSSD", "fiscal_year": 2025, "quarter": 1},
     expect(403, admin="ok")),
    ("GET", "/api/period-closures/{closure}", None, SEE),
    ("POST", "/api/period-closures/{closure}/reopen", {"reason": "misposted ORS"},
     expect(403, other_focal=404, admin="ok")),
    ("GET", "/api/opening-balances?organization=MSSD&fiscal_year=2025", None, SEE),
    ("GET", "/api/alerts", None, EVERYONE),
    ("POST", "/api/alerts/{alert}/acknowledge", None, SEE),
    ("GET", "/api/jobs/{job}", None, REQUESTER),
    ("GET", "/api/notifications", None, EVERYONE),
    ("GET", "/api/audit", None, EVERYONE),
    ("GET", "/api/audit.csv", None, EVERYONE),
    ("GET", "/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025", None, EVERYONE),
    ("GET", "/api/reports/mfbm?fiscal_year=2025", None, EVERYONE),
    ("GET", "/api/reports/mfbm-budget-execution.pdf?fiscal_year=2025", None, EVERYONE),
    *(("GET", f"/api/reports/{name}.{fmt}?fiscal_year=2025", None, EVERYONE)
      for name in REPORT_KINDS for fmt in REPORT_FORMATS),  # issue 13: every report, both formats
    ("GET", "/api/reports/files/{job}", None, REQUESTER),
    # analytics (issue 16 item 6): scoped as the reports; another MOA's figures are not found
    ("GET", "/api/analytics/trends?from_year=2024&to_year=2025&by=moa", None, EVERYONE),
    ("GET", "/api/analytics/trends?from_year=2025&to_year=2025&moa=MSSD", None, SEE),
    ("GET", "/api/analytics/velocity?fiscal_year=2025&moa=MSSD", None, SEE),
    ("GET", "/api/analytics/needs-fulfilment", None, EVERYONE),
    ("GET", "/api/analytics/projection?fiscal_year=2025", None, EVERYONE),
    *(("GET", f"/api/analytics/{view}.{fmt}?{query}", None, EVERYONE)
      for view, query in (("trends", "from_year=2025&to_year=2025"), ("velocity", "fiscal_year=2025"),
                          ("needs-fulfilment", ""), ("projection", "fiscal_year=2025"))
      for fmt in ("pdf", "png")),
    ("GET", "/api/organizations", None, ADMIN_ONLY),
    ("POST", "/api/organizations", {"code": "NEW", "name": "New office"}, ADMIN_ONLY),
    ("GET", "/api/organizations/{organization}", None, ADMIN_ONLY | {"budget_analyst": "ok"}),
    ("PATCH", "/api/organizations/{organization}", {"operating_unit": "Central Office"}, ADMIN_ONLY),
    ("GET", "/api/users", None, ADMIN_ONLY),
    ("POST", "/api/users", {"username": "new.{role}", "roles": ["executive"]}, ADMIN_ONLY),
    ("GET", "/api/users/{user}", None, ADMIN_ONLY),
    ("PATCH", "/api/users/{user}", {"full_name": "Renamed"}, ADMIN_ONLY),
    # community needs (issue 15): raised by community representatives, MOAs and BPDA; voted by anyone signed in;
    # a need without a MOA yet is validated by BPDA (a MOA's focal person validates their own MOA's)
    ("GET", "/api/needs", None, EVERYONE),
    ("POST", "/api/needs", {"title": "Well", "description": "No water", "category": "water_sanitation",
                            "urgency": "high", "consent": True}, expect(403, focal="ok", other_focal="ok",
                                                       technical_reviewer="ok", planning_officer="ok", admin="ok")),
    ("GET", "/api/needs/priorities", None, EVERYONE),
    ("GET", "/api/needs/gap-analysis", None, EVERYONE),  # each counts the needs they may see
    ("GET", "/api/needs/{need}", None, SEE),
    ("GET", "/api/needs/{need}/actions", None, SEE),
    ("GET", "/api/needs/{need}/history", None, SEE),
    ("POST", "/api/needs/{raised_need}/transitions", {"trigger": "validate"},
     expect(403, technical_reviewer="ok", planning_officer="ok", admin="ok")),
    ("POST", "/api/needs/{need}/votes", None, SEE),
    ("DELETE", "/api/needs/{need}/votes", None, expect(404)),  # nobody has voted in the world
    ("GET", "/api/me/votes", None, EVERYONE),
    ("GET", "/api/monitoring-entries/{draft}/needs", None, SEE),
    ("POST", "/api/monitoring-entries/{draft}/needs", {"need_id": "{need}"}, MOA_WRITES),
    ("GET", "/api/public/needs", None, expect() | {"anonymous": "ok"}),
    ("GET", "/api/public/needs/{need}", None, expect() | {"anonymous": "ok"}),
    # feedback on completed PPAs (issue 15 item 3): anyone who may see the need; photos by the feedback's author
    ("GET", "/api/needs/{need}/feedback", None, SEE),
    ("POST", "/api/needs/{need}/feedback", {"rating": 4}, SEE),  # 409 not_completed for those who may
    ("GET", "/api/needs/{need}/feedback/summary", None, SEE),
    ("POST", "/api/needs/{rated_need}/feedback/{feedback}/photos", {"file": DOCUMENT},
     expect(403, focal="ok", other_focal=404)),
    ("GET", "/api/needs/{rated_need}/feedback/{feedback}/photos/{photo}", None, SEE),
    ("DELETE", "/api/needs/{rated_need}/feedback/{feedback}/photos/{photo}", None,
     expect(403, focal="ok", other_focal=404)),
    ("GET", "/api/reports/feedback?fiscal_year=2025&quarter=2", None, EVERYONE),
    ("GET", "/api/reports/feedback.xlsx?fiscal_year=2025&quarter=2", None, EVERYONE),
    # strategic goals, policies, planning cycles (issue 15 item 4): BPDA planners write, everyone signed in reads;
    # a PPA is linked to a goal by a planner or by the PPA's own MOA
    ("GET", "/api/strategic-goals", None, EVERYONE),
    ("POST", "/api/strategic-goals", {"title": "Safe water", "target_year": 2028}, PLANNER),
    ("GET", "/api/strategic-goals/{goal}", None, EVERYONE),
    ("PATCH", "/api/strategic-goals/{goal}", {"status": "on_track"}, PLANNER),
    ("GET", "/api/strategic-goals/{goal}/ppas", None, EVERYONE),
    ("POST", "/api/strategic-goals/{goal}/ppas", {"ppa_id": "{draft}"},
     expect(403, focal="ok", other_focal=404, planning_officer="ok", admin="ok")),
    ("GET", "/api/policies", None, EVERYONE),
    ("POST", "/api/policies", {"title": "Water act", "goal_ids": ["{goal}"]}, PLANNER),
    ("GET", "/api/policies/{policy}", None, EVERYONE),
    ("PATCH", "/api/policies/{policy}", {"status": "adopted"}, PLANNER),
    ("GET", "/api/planning-cycles", None, EVERYONE),
    ("POST", "/api/planning-cycles", {"fiscal_year": 2029, "planning_starts_on": "2028-01-15"}, PLANNER),
    ("GET", "/api/planning-cycles/{cycle}", None, EVERYONE),
    ("PATCH", "/api/planning-cycles/{cycle}", {"budget_approved_on": "2027-12-01"}, PLANNER),
    ("GET", "/api/alignment", None, EVERYONE),
    ("GET", "/api/alignment/matrix", None, EVERYONE),
    ("GET", "/api/public/ppas", None, expect() | {"anonymous": "ok"}),
    ("GET", "/api/public/ppas/{tracked}", None, expect() | {"anonymous": "ok"}),
    # completion photos of an enacted PPA (issue 15 item 5): its MOA adds and removes them, anyone reads them
    ("GET", "/api/public/ppas/{tracked}/photos/{completion_photo}", None, expect() | {"anonymous": "ok"}),
    ("POST", "/api/monitoring-entries/{tracked}/completion-photos", {"file": DOCUMENT}, MOA_WRITES),
    ("DELETE", "/api/monitoring-entries/{tracked}/completion-photos/{completion_photo}", None, MOA_WRITES),
    # focal persons and coordination meetings (issue 15 item 6): BPDA planners write; whoever may see the MOA
    # reads its focal persons (contacts are personal data) and its meetings
    ("GET", "/api/organizations/{organization}/focal-persons", None, SEE),
    ("POST", "/api/organizations/{organization}/focal-persons",
     {"kind": "alternate", "name": "Amina", "appointed_on": "2025-01-06"}, APPOINT),
    ("GET", "/api/focal-persons/{focal_person}", None, SEE),
    ("PATCH", "/api/focal-persons/{focal_person}", {"position": "Director"}, APPOINT),
    ("GET", "/api/coordination-meetings", None, EVERYONE),
    ("POST", "/api/coordination-meetings", {"fiscal_year": 2025, "quarter": 2, "held_on": "2025-07-10"}, PLANNER),
    ("GET", "/api/coordination-meetings/{meeting}", None, SEE),
    ("PATCH", "/api/coordination-meetings/{meeting}", {"agenda": "Q1 review"}, APPOINT),
    ("GET", "/api/coordination-meetings/{meeting}/pre-meeting-report", None, SEE),
    ("GET", "/api/coordination-meetings/{meeting}/pre-meeting-report.xlsx", None, SEE),
    # budget scenarios and the optimiser (issue 16 items 1-2): MFBM analysts, BPDA planners and executives
    ("GET", "/api/scenarios", None, SCENARIOS),
    ("POST", "/api/scenarios", {"name": "What if", "ceiling": "1000000.00"}, SCENARIOS),
    ("GET", "/api/scenarios/{scenario}", None, SCENARIOS),
    ("PATCH", "/api/scenarios/{scenario}", {"name": "Renamed"}, SCENARIOS),
    ("GET", "/api/scenarios/{scenario}/allocations", None, SCENARIOS),
    ("PUT", "/api/scenarios/{scenario}/allocations/{draft}", {"amount": "100.00"}, SCENARIOS),
    ("POST", "/api/scenarios/{scenario}/adjustments", {"scope": "all", "percent": "5"}, SCENARIOS),
    ("POST", "/api/scenarios/{scenario}/optimise", {"save": False}, SCENARIOS),
    ("GET", "/api/scenarios/compare?ids={scenario},{other_scenario}", None, SCENARIOS),
    ("GET", "/api/scenarios/compare.xlsx?ids={scenario},{other_scenario}", None, SCENARIOS),
    ("GET", "/api/scenarios/compare.pdf?ids={scenario},{other_scenario}", None, SCENARIOS),
    ("GET", "/api/delegations", None, EVERYONE),
    ("POST", "/api/delegations", LEND, expect(403, technical_reviewer="ok", admin="ok")),
    ("GET", "/api/delegations/{delegation}", None, DELEGATOR | {"planning_officer": "ok"}),
    ("POST", "/api/delegations/{delegation}/revoke", None, DELEGATOR | {"planning_officer": 403}),
]


def build(world: World) -> dict[str, object]:
    """One of everything, all belonging to MSSD (the 'own' organization)."""
    for role in ROLES[1:]:
        getattr(world, role)
    chain = Chain(world)
    tree = chain.get(f"/api/monitoring-entries/{chain.ppa}/budget_allocation_tree/")["breakdown"][0]
    leaf = tree["children"][0]["children"][0]["work_item_id"]
    # Reported before the PPA enters the money chain (which then refuses it), so the alert opens.
    world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "999999.00"},
                      headers=world.focal.headers)
    world.client.post(f"/api/work-items/{leaf}/dependencies", json={"predecessor_id": tree["work_item_id"]},
                      headers=world.focal.headers)
    spare = chain.allot("10.00", quarter=2)
    allotment = chain.allot("100000.00")
    obligation = chain.obligate(allotment["id"], "50000.00")
    spare_obligation = chain.obligate(allotment["id"], "10.00")
    disbursement = chain.disburse(obligation["id"], "100.00")
    draft_ors = chain.post("/api/obligations", world.focal, 201, allotment_id=allotment["id"], payee="P",
                           obligation_date="2025-04-01", amount="1.00")["id"]
    draft_dv = chain.post("/api/disbursements", world.focal, 201, obligation_id=obligation["id"], payment_method="mds_check", disbursement_date="2025-05-01", amount="1.00")["id"]
    alert = world.client.get("/api/alerts", headers=world.focal.headers).get_json()[0]["id"]
    job = world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&async=true",
                           headers=world.focal.headers).get_json()["job_id"]
    draft_proposal = world.client.post("/api/budget-proposals", json={
        "organization": "MSSD", "fiscal_year": 2027, "title": "FY2027"}, headers=world.focal.headers).get_json()["id"]
    closure = world.client.post("/api/period-closures", json={"organization": "MSSD", "fiscal_year": 2024,
                                                              "quarter": 4}, headers=world.admin.headers).get_json()["id"]
    reviewing = world.create_ppa(title="In review")["id"]
    world.fire(reviewing, "submit", world.focal)
    draft = world.create_ppa(title="Draft")["id"]
    attachment = world.client.post(f"/api/monitoring-entries/{draft}/attachments", headers=world.focal.headers,
                                   **_upload()).get_json()["id"]
    delegation = world.client.post("/api/delegations", json=LEND | {  # not yet active: lends nothing now
        "delegate": "bpda.planner", "starts_at": "2098-01-01T00:00:00+08:00"},
        headers=world.technical_reviewer.headers).get_json()["id"]
    need = world.client.post("/api/needs", json={  # published and forwarded to MSSD
        "title": "Health station", "description": "No clinic within 10 km", "category": "health",
        "urgency": "high", "consent": True}, headers=world.focal.headers).get_json()["id"]
    for step, extra in (("validate", {}), ("forward", {"organization": "MSSD"})):
        world.client.post(f"/api/needs/{need}/transitions", json={"trigger": step, **extra},
                          headers=world.planning_officer.headers)
    raised_need = world.client.post("/api/needs", json={  # submitted, no MOA yet
        "title": "Footbridge", "description": "The river cuts the barangay", "category": "infrastructure",
        "urgency": "medium", "consent": True}, headers=world.technical_reviewer.headers).get_json()["id"]
    rated_need, feedback, photo = _feedback(world)
    completion_photo = world.client.post(
        f"/api/monitoring-entries/{chain.ppa}/completion-photos", headers=world.focal.headers,
        data={"file": (io.BytesIO(_png()), "done.png")}, content_type="multipart/form-data").get_json()["id"]
    goal = world.client.post("/api/strategic-goals", json={"title": "Safe water", "target_year": 2028},
                             headers=world.planning_officer.headers).get_json()["id"]
    policy = world.client.post("/api/policies", json={"title": "Water act"},
                               headers=world.planning_officer.headers).get_json()["id"]
    cycle = world.client.post("/api/planning-cycles", json={"fiscal_year": 2027, "planning_starts_on": "2026-01-15"},
                              headers=world.planning_officer.headers).get_json()["id"]
    focal_person = world.client.post(f"/api/organizations/{_organization_id(world, 'MSSD')}/focal-persons", json={
        "kind": "primary", "name": "Bai Norhaya", "email": "norhaya@example.org", "appointed_on": "2025-01-06"},
        headers=world.planning_officer.headers).get_json()["id"]
    meeting = world.client.post("/api/coordination-meetings", json={
        "organization": "MSSD", "fiscal_year": 2025, "quarter": 1, "held_on": "2025-04-10"},
        headers=world.planning_officer.headers).get_json()["id"]
    scenario, other_scenario = (world.client.post("/api/scenarios", json=body, headers=world.budget_analyst.headers)
                                .get_json()["id"] for body in ({"from_fiscal_year": 2025},
                                                               {"name": "Empty", "ceiling": "1.00"}))
    return {"focal_person": focal_person, "meeting": meeting, "goal": goal, "policy": policy, "cycle": cycle,
            "scenario": scenario, "other_scenario": other_scenario, "need": need, "raised_need": raised_need,
            "rated_need": rated_need, "feedback": feedback, "photo": photo, "completion_photo": completion_photo,
            "draft": draft, "reviewing": reviewing,
            "tracked": chain.ppa, "attachment": attachment,
            "root": tree["work_item_id"], "leaf": leaf, "proposal": chain.proposal,
            "draft_proposal": draft_proposal,
            "program_budget": chain.program_budget, "allotment": allotment["id"], "spare_allotment": spare["id"],
            "obligation": obligation["id"], "spare_obligation": spare_obligation["id"],
            "disbursement": disbursement["id"], "draft_ors": draft_ors, "draft_dv": draft_dv, "alert": alert, "job": job, "user": world.focal.id,
            "organization": _organization_id(world, "MSSD"), "delegation": delegation,
            "closure": closure, "rule_set": world.app.extensions["ppaflow"].rules.hash}


def _feedback(world: World) -> tuple[int, int, int]:
    """A need of MSSD addressed by a completed PPA, the focal person's
    feedback on it and its photo (issue 15 item 3)."""
    need = world.client.post("/api/needs", json={
        "title": "Footbridge", "description": "Done", "category": "infrastructure", "urgency": "high",
        "consent": True},
        headers=world.focal.headers).get_json()["id"]
    for step, extra in (("validate", {}), ("forward", {"organization": "MSSD"})):
        world.client.post(f"/api/needs/{need}/transitions", json={"trigger": step, **extra},
                          headers=world.planning_officer.headers)
    finished = world.create_ppa(title="Finished")["id"]
    world.client.post(f"/api/monitoring-entries/{finished}/needs", json={"need_id": need}, headers=world.focal.headers)
    with world.app.app_context():
        db.session.execute(update(Ppa).where(Ppa.id == finished).values(status="completed"))
        db.session.commit()
    feedback = world.client.post(f"/api/needs/{need}/feedback", json={"rating": 5},
                                 headers=world.focal.headers).get_json()["id"]
    photo = world.client.post(f"/api/needs/{need}/feedback/{feedback}/photos", headers=world.focal.headers,
                              data={"file": (io.BytesIO(_png()), "site.png")},
                              content_type="multipart/form-data").get_json()["id"]
    return need, feedback, photo


def _png() -> bytes:
    """A 4 x 4 PNG photo."""
    image = io.BytesIO()
    Image.new("RGB", (4, 4)).save(image, "PNG")
    return image.getvalue()


def _upload() -> dict:
    """The request arguments of a multipart upload of a small PDF."""
    return {"data": {"file": (io.BytesIO(documents.pdf()), "profile.pdf")}, "content_type": "multipart/form-data"}


def _organization_id(world: World, code: str) -> int:
    with world.app.app_context():
        return users.get_organization(code).id


def fill(value, names: dict):
    if isinstance(value, str):
        text = value.format(**names)
        return int(text) if text.isdigit() and value.startswith("{") and value.endswith("}") else text
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """The world of ``build`` on ``ONE_BACKEND``, built once for the module: ``(world, names)``."""
    # Every row's anonymous request fails authentication from one address: more than a minute's worth.
    application = _make_app(ONE_BACKEND, request, tmp_path_factory.mktemp("matrix"),
                            FAILED_AUTH_LIMIT="1000000 per minute")
    world = World(application)
    yield world, build(world)
    _dispose(application)


@pytest.mark.parametrize("method, path, body, expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_each_role_gets_the_expected_status(built, method, path, body, expected):
    world, names = built
    people = {"anonymous": None} | {role: getattr(world, role) for role in ROLES[1:]}
    # Refusals first, so an allowed write cannot change what a later role sees.
    order = sorted(ROLES, key=lambda role: expected[role] == "ok")
    with rolled_back(world.app):
        got = _statuses(world, people, order, method, path, body, expected, names)
    assert got == expected


def _statuses(world, people, order, method, path, body, expected, names) -> dict:
    """What each role of ``order``, in turn, gets from the request (``"ok"`` where expected and allowed)."""
    got = {}
    for role in order:
        headers = people[role].headers if people[role] else {}
        if method == "PATCH":  # a PATCH needs If-Match (428 without); "*" matches any version
            headers = headers | {"If-Match": "*"}
        values = names | {"role": role}
        sent = _upload() if body == {"file": DOCUMENT} else {"json": fill(body, values) if body is not None else None}
        response = world.client.open(fill(path, values), method=method, headers=headers, **sent)
        status = response.status_code
        response.close()  # a streamed body (CSV) must be finished before the next request
        got[role] = "ok" if expected[role] == "ok" and status not in (401, 403, 404) and status < 500 else status
    return got


def test_the_matrix_covers_every_api_endpoint(built):
    app = built[0].app
    routes = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api")
              and not rule.rule.startswith(("/api/openapi.json", "/api/docs"))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = set()
    for method, path, _, _ in MATRIX:
        bare = path.split("?")[0]
        covered |= {(method, rule) for m, rule in routes if m == method and _matches(rule, bare)}

    assert routes - covered == set()


def _matches(rule: str, path: str) -> bool:
    rule_parts, path_parts = rule.strip("/").split("/"), path.strip("/").split("/")
    return len(rule_parts) == len(path_parts) and all(
        r == p or r.startswith("<") for r, p in zip(rule_parts, path_parts, strict=True))


def test_a_rows_writes_are_gone_before_the_next_row(built):
    world, names = built
    with rolled_back(world.app):
        closed = world.client.post("/api/period-closures", json={"organization": "MSSD", "fiscal_year": 2025,
                                                                 "quarter": 1}, headers=world.admin.headers)
        assert closed.status_code == 200, closed.get_json()
    closures = world.client.get("/api/period-closures", headers=world.admin.headers).get_json()

    assert [c["id"] for c in closures] == [names["closure"]]
