"""``ppaflow demo``: the example PPAs through the approval workflow, on a
fresh temporary SQLite database, with the same service functions the API
uses. Prints each PPA's stage and history; exits 1 if anything turns out
other than the script expects (a refusal that did not happen, or the
reverse).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from db import db
from db.audit import AuditContext, audit_context
from db.migrate import upgrade
from services import approvals, budget, documents, goals, needs, ppas, reports, tracking, users, work_items
from services.access import Operator
from web.app import create_app
from web.console import table
from web.examples import load_examples
from workflow.errors import PpaflowError


@dataclass(frozen=True)
class Step:
    """One attempt in the script: who fires what on which example PPA, and
    whether the rules must refuse it."""

    ppa: str
    user: str
    trigger: str
    comment: str | None = None
    refused: bool = False


APPROVAL_SCRIPT: tuple[Step, ...] = (
    # Livelihood Training Program: all the way to enactment.
    Step("livelihood", "mssd.focal", "submit"),
    Step("livelihood", "mssd.focal", "approve", refused=True),  # a MOA focal person cannot approve
    Step("livelihood", "bpda.reviewer", "approve", "Aligned with BDP 2023-2028, social protection outcome."),
    Step("livelihood", "mfbm.analyst", "approve", "Within the MSSD FY2025 MOOE ceiling."),
    Step("livelihood", "bpda.planner", "approve", "Consulted OBC leaders in Cotabato, Zamboanga and Davao."),
    Step("livelihood", "ocm.executive", "approve"),
    Step("livelihood", "mfbm.analyst", "enact", "Included in GAAB 2025 releases."),
    # Halal Certification Workshop: approved, not yet enacted.
    Step("halal", "mtit.focal", "submit"),
    Step("halal", "bpda.reviewer", "approve"),
    Step("halal", "mfbm.analyst", "approve"),
    Step("halal", "bpda.planner", "approve"),
    Step("halal", "ocm.executive", "approve", "Approved for the Q2 schedule."),
    Step("halal", "mfbm.analyst", "enact", "Released with the Q2 allotments."),
    # Site visit: rejected at budget review, with the reason.
    Step("site_visit", "oobc.focal", "submit"),
    Step("site_visit", "bpda.reviewer", "approve"),
    Step("site_visit", "mfbm.analyst", "reject", refused=True),  # no comment: refused
    Step("site_visit", "mfbm.analyst", "reject",
         "Covered by the OOBC regular field-monitoring budget; no separate appropriation needed."),
    # Mosque repair: returned for revision, then resubmitted.
    Step("mosque", "oobc.focal", "submit"),
    Step("mosque", "bpda.reviewer", "return_for_revision",
         "Attach the engineer's cost estimate and the barangay resolution."),
    Step("mosque", "oobc.focal", "submit"),
    # Rural health unit: the administrator submits for MOH, then may not approve it.
    Step("rhu", "admin", "submit"),
    Step("rhu", "admin", "approve", refused=True),  # separation of duties: submitter
    Step("rhu", "bpda.reviewer", "approve"),
    # Feeding program: one user may approve only one stage.
    Step("feeding", "mbhte.focal", "submit"),
    Step("feeding", "bpda.senior", "approve"),
    Step("feeding", "mfbm.analyst", "approve"),
    Step("feeding", "bpda.senior", "approve", refused=True),  # separation of duties: second stage
    Step("feeding", "bpda.planner", "approve"),
    # Coconut farmers: submitted, waiting for technical review.
    Step("coconut", "mafar.focal", "submit"),
    # Mosque repair, resubmitted: approved through enactment (minimal WBS generated on the way).
    Step("mosque", "bpda.reviewer", "approve", "Cost estimate and barangay resolution attached."),
    # Infrastructure: the Ministry of Public Works' technical endorsement (a conditional route of the rules).
    Step("mosque", "mpw.engineer", "approve", "Structural assessment of the repair scope endorsed."),
    Step("mosque", "mfbm.analyst", "approve"),
    Step("mosque", "bpda.planner", "approve", "Community association and barangay council consulted."),
    Step("mosque", "ocm.executive", "approve"),
    Step("mosque", "mfbm.analyst", "enact"),
)


@dataclass
class Attempt:
    step: Step
    ok: bool
    outcome: str


def run_approval_script(ppa_ids: dict[str, int], script: tuple[Step, ...]) -> list[Attempt]:
    """Run ``script``; each step through ``approvals.fire_transition``."""
    attempts = []
    for step in script:
        actor = users.get_user_or_raise(step.user)
        try:
            moved = approvals.fire_transition(actor, ppa_ids[step.ppa], step.trigger, comment=step.comment)
            attempts.append(Attempt(step, True, moved.approval_status))
        except PpaflowError as exc:
            attempts.append(Attempt(step, False, f"{exc.code}: {exc.detail}"))
    return attempts


def run_demo(echo: Callable[[str], None], out_dir: Path = Path("out")) -> int:
    """Run the demo and print its tables; the reports go to ``out_dir``.

    Returns:
        0 when every step ended as scripted, else 1.
    """
    with tempfile.TemporaryDirectory(prefix="ppaflow-demo-") as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'demo.sqlite3'}", "REDIS_URL": None})
        with app.app_context():
            try:
                upgrade(db.engine)
                loaded = load_examples()
                echo(f"ppaflow demo: fresh database, {len(loaded.users)} users, {len(loaded.ppa_ids)} example PPAs")
                attempts = run_approval_script(loaded.ppa_ids, APPROVAL_SCRIPT)
                _print_approvals(echo, loaded.ppa_ids, attempts)
                problems = run_tracking_script(echo, loaded.ppa_ids)
                problems += run_budget_script(echo, loaded.ppa_ids, out_dir)
                problems += run_needs_script(echo, loaded.ppa_ids)
            finally:
                db.session.remove()
                db.engine.dispose()
    surprises = [a for a in attempts if a.ok == a.step.refused]
    for attempt in surprises:
        echo(f"UNEXPECTED: {attempt.step.user} {attempt.step.trigger} on {attempt.step.ppa}: {attempt.outcome}")
    for problem in problems:
        echo(f"UNEXPECTED: {problem}")
    return 1 if surprises or problems else 0


def _print_approvals(echo, ppa_ids: dict[str, int], attempts: list[Attempt]) -> None:
    viewer = users.get_user_or_raise("admin")
    echo("")
    echo("== PPAs and their approval stage ==")
    rows = []
    for key, ppa_id in ppa_ids.items():
        ppa = ppas.get_ppa_or_raise(viewer, ppa_id)
        rows.append((ppa.id, _short(ppa.title, 52), ppa.organization.code, ppa.fiscal_year,
                     f"{ppa.budget_allocation:,.2f}", ppa.approval_status))
    echo(table(("id", "PPA", "MOA", "FY", "budget (PHP)", "stage"), rows, align="llllrl"))
    for key, ppa_id in ppa_ids.items():
        history = approvals.history(viewer, ppa_id)
        if not history:
            continue
        ppa = ppas.get_ppa_or_raise(viewer, ppa_id)
        echo("")
        echo(f"-- history of PPA {ppa.id}: {ppa.title} (now {ppa.approval_status})")
        echo(table(("#", "trigger", "from -> to", "by (role)", "comment"), [
            (i, h.trigger, f"{h.from_stage} -> {h.to_stage}", f"{h.actor.username} ({h.role})",
             _short(h.comment or "", 60)) for i, h in enumerate(history, 1)]))
    refused = [a for a in attempts if not a.ok]
    if refused:
        echo("")
        echo("== refused attempts (the rules said no) ==")
        echo(table(("PPA", "user", "trigger", "refused because"), [
            (a.step.ppa, a.step.user, a.step.trigger, _short(a.outcome, 90)) for a in refused]))


def run_tracking_script(echo, ppa_ids: dict[str, int]) -> list[str]:
    """Execution tracking on three PPAs, one per template: distribute, spend
    (one item over its allocation), complete tasks, and print each tree.

    Returns:
        What did not turn out as expected (empty when all is well).
    """
    problems: list[str] = []
    echo("")
    echo("== execution tracking ==")

    # Rural health unit (activity template), still in budget review: re-weight the phases
    # (nothing is spent before enactment).
    moh = users.get_user_or_raise("moh.focal")
    rhu = ppa_ids["rhu"]
    phases = [c["work_item_id"] for c in tracking.budget_allocation_tree(moh, rhu)["breakdown"][0]["children"]]
    tree = tracking.distribute_budget(moh, rhu, "weighted", weights=dict(zip(
        phases, (Decimal("0.10"), Decimal("0.80"), Decimal("0.10")), strict=True))).payload()
    echo("RHU upgrading: phases re-weighted 10/80/10 -> "
         + ", ".join(c["allocated_budget"] for c in tree["breakdown"][0]["children"]))

    # Livelihood program (program template), enacted: allocations are locked, spending is not.
    mssd = users.get_user_or_raise("mssd.focal")
    livelihood = ppa_ids["livelihood"]
    try:
        tracking.distribute_budget(mssd, livelihood, "equal")
        problems.append("a distribution on an enacted (locked) PPA was accepted")
    except PpaflowError as exc:
        echo(f"Livelihood program: equal distribution refused ({exc.code}): {exc.detail}")
    tasks = _leaves(tracking.budget_allocation_tree(mssd, livelihood))
    _spend(mssd, tasks["Needs Assessment & Feasibility"], "512500.00")  # 12,500.00 over its 500,000.00
    _spend(mssd, tasks["Stakeholder Consultation"], "260000.00")
    _spend(mssd, tasks["Phase 1: Launch & Mobilization"], "410000.00")
    for title in ("Needs Assessment & Feasibility", "Stakeholder Consultation", "Program Design & Approval"):
        work_items.fire_work_item_transition(mssd, tasks[title], "complete")

    # Mosque repair (minimal template), enacted: the one deliverable, half done.
    oobc = users.get_user_or_raise("oobc.focal")
    mosque = ppa_ids["mosque"]
    deliverable = _leaves(tracking.budget_allocation_tree(oobc, mosque))["Main Deliverable"]
    _spend(oobc, deliverable, "600000.00")
    work_items.update_work_item(oobc, deliverable, {"progress": 50})

    for key, who in (("livelihood", mssd), ("rhu", moh), ("mosque", oobc)):
        ppa = ppas.get_ppa_or_raise(who, ppa_ids[key])
        tree = tracking.budget_allocation_tree(who, ppa.id)
        echo("")
        echo(f"-- budget tree of PPA {ppa.id}: {ppa.title} ({ppa.wbs_template}; {ppa.approval_status}, "
             f"{ppa.status}, {ppa.progress}%)")
        echo(f"   budget {tree['ppa_budget']}, allocated to work items {tree['allocated_to_workitems']} "
             f"({tree['allocation_percentage']}%), expended {tree['total_expended']}")
        echo(_tree_table(tree["breakdown"][0]))
        allocated = sum(Decimal(c["allocated_budget"]) for c in tree["breakdown"][0]["children"])
        if allocated != Decimal(tree["ppa_budget"]):
            problems.append(f"{ppa.title}: children allocate {allocated}, not the budget {tree['ppa_budget']}")
    overspent = [n["title"] for key in ("livelihood", "mosque") for n in _walk(
        tracking.budget_allocation_tree(users.get_user_or_raise("admin"), ppa_ids[key])["breakdown"][0])
        if n["budget_status"] == "over_budget"]
    if "Needs Assessment & Feasibility" not in overspent:
        problems.append("the overspent item is not shown over budget")
    return problems


def run_budget_script(echo, ppa_ids: dict[str, int], out_dir: Path) -> list[str]:
    """Money down the chain for the enacted PPAs: proposals, program
    budgets, quarterly allotments, obligations, disbursements; one refused
    over-obligation; both reports written to ``out_dir``."""
    problems: list[str] = []
    analyst = users.get_user_or_raise("mfbm.analyst")
    echo("")
    echo("== budget execution (FY2025) ==")
    chains = {"livelihood": ("mssd.focal", "MSSD", "5000000.00",
                             [(1, "2000000.00", [("Cotabato City Skills Training Center", "1200000.00", "1200000.00"),
                                                 ("Mindanao Tools and Starter Kits Trading", "650000.00", "325000.00")]),
                              (2, "1500000.00", [])]),
              "halal": ("mtit.focal", "MTIT", "850000.00",
                        [(2, "850000.00", [("Bangsamoro Halal Development Council", "600000.00", "450000.00")])])}
    rows, number = [], 0
    for key, (focal_name, org, approved, allotments) in chains.items():
        focal = users.get_user_or_raise(focal_name)
        with as_actor(focal):
            proposal = budget.create_proposal(focal, organization=org, fiscal_year=2025,
                                              title=f"{org} FY2025 budget proposal")
        with as_actor(analyst):
            program_budget = budget.create_program_budget(analyst, proposal_id=proposal.id, ppa_id=ppa_ids[key],
                                                          approved_amount=Decimal(approved))
        # The proposal reaches the enacted GAAB: the MOA submits, MFBM reviews,
        # and someone other than the reviewer marks it enacted (docs/design.md §12).
        administrator = users.get_user_or_raise("admin")
        for trigger, who in (("submit", focal), ("review", analyst), ("enact", administrator)):
            with as_actor(who):
                budget.fire_proposal_transition(who, proposal.id, trigger)
        first_allotment = None
        for quarter, amount, obligations in allotments:
            number += 1
            with as_actor(analyst):
                allotment = budget.release_allotment(
                    analyst, program_budget_id=program_budget.id, quarter=quarter,
                    release_date=date(2025, 3 * quarter - 2, 6), saro_number=f"SARO-BARMM-2025-{org}-{number:04d}",
                    amount=Decimal(amount))
            first_allotment = first_allotment or allotment
            for payee, obligated, paid in obligations:
                number += 1
                with as_actor(focal):
                    obligation = budget.record_obligation(
                        focal, allotment_id=allotment.id, payee=payee,
                        particulars="As per contract", obligation_date=date(2025, 3 * quarter - 1, 10),
                        amount=Decimal(obligated))
                signers = _signatories(org)
                for trigger, role in (("certify_charges", "head_of_office"), ("certify_obligation", "budget_officer")):
                    with as_actor(signers[role]):
                        documents.fire_obligation_transition(signers[role], obligation.id, trigger)
                paid_on = date(2025, 3 * quarter, 12)
                with as_actor(focal):
                    disbursement = budget.record_disbursement(
                        focal, obligation_id=obligation.id,
                        payment_method="mds_check" if number % 2 else "ada",
                        disbursement_date=paid_on, amount=Decimal(paid))
                for trigger, role in (("certify_necessary", "head_of_office"), ("record_entry", "accountant"),
                                      ("certify_cash", "chief_accountant"), ("approve_payment", "head_of_agency"),
                                      ("pay", "disbursing_officer")):
                    box_e = {"check_ada_number": f"CHK-{number:04d}", "check_ada_date": paid_on,
                             "jev_number": f"JEV-2025-{org}-{number:04d}"} if trigger == "pay" else {}
                    with as_actor(signers[role]):
                        documents.fire_disbursement_transition(signers[role], disbursement.id, trigger, **box_e)
        if key == "livelihood":
            focal_user = users.get_user_or_raise(focal_name)
            try:
                with as_actor(focal_user):
                    budget.record_obligation(focal_user, allotment_id=first_allotment.id, payee="Late supplier",
                                             obligation_date=date(2025, 3, 20),
                                             amount=Decimal("200000.00"))
                problems.append("an obligation above its allotment was accepted")
            except PpaflowError as exc:
                echo(f"refused over-obligation ({exc.code}): {exc.detail}")
        totals = budget.totals(program_budget)
        rows.append((key, org, f"{program_budget.approved_amount:,.2f}", *(f"{totals[k]:,.2f}" for k in (
            "allotted", "obligated", "disbursed", "unobligated", "unpaid"))))
    echo(table(("PPA", "MOA", "approved", "allotted", "obligated", "disbursed", "unobligated", "unpaid"), rows,
               align="llrrrrrr"))
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind in reports.REPORT_KINDS:
        data, count = reports.build_report(Operator(), kind, 2025)
        path = out_dir / reports.file_name(kind, 2025, None)
        path.write_bytes(data)
        echo(f"wrote {path} ({count} rows)")
    return problems


#: The community representative of the needs script (created by the demo, as the signatories are).
COMMUNITY_REP = ("lamitan.rep", "Hadja Fatima Akbar (Lamitan community representative)")

#: Who votes for the demo's need besides the representative (the weights are their stakeholder types').
VOTERS = ("bpda.planner", "mssd.focal", "oobc.focal", "mtit.focal")


def run_needs_script(echo, ppa_ids: dict[str, int]) -> list[str]:
    """A community need through to a funded PPA (issue 15; docs/design.md
    §14): a community representative raises it with consent, a BPDA planner
    validates it, five users vote, the planner forwards it to MSSD, and
    MSSD's focal person addresses it with the enacted livelihood program
    (which the budget script paid from); then the public need and PPA pages,
    which name nobody.

    Returns:
        What did not turn out as expected (empty when all is well).
    """
    problems: list[str] = []
    echo("")
    echo("== community needs: from a barangay to a funded PPA ==")
    username, full_name = COMMUNITY_REP
    try:
        rep = users.get_user_or_raise(username)
    except PpaflowError:
        rep = users.add_user(username, ["community_representative"], full_name=full_name, with_token=False)[0]
        rep.stakeholder_type = "community_leader"  # votes weigh 2 (needs.yaml)
        db.session.commit()
    with as_actor(rep):
        need = needs.create_need(rep, consent=True, title="Skills training for out-of-school youth in Lamitan",
                                 description="About 300 out-of-school youth in Lamitan City have no access to "
                                             "vocational training; families ask for livelihood skills courses.",
                                 category="livelihood", urgency="high", province_code="1900700000",
                                 municipality_code="1900702000", population_affected=300,
                                 estimated_cost=Decimal("1500000.00"))
    echo(f"need {need.id} raised by a community representative (consent recorded, notice "
         f"{need.privacy_notice_version}): {need.title}")
    planner = users.get_user_or_raise("bpda.planner")
    with as_actor(planner):
        needs.fire_need_transition(planner, need.id, "validate")  # published: anyone signed in may vote
    for voter in (rep, *(users.get_user_or_raise(name) for name in VOTERS)):
        with as_actor(voter):
            needs.vote(voter, need.id)
    with as_actor(planner):
        needs.fire_need_transition(planner, need.id, "forward", organization="MSSD")
    focal = users.get_user_or_raise("mssd.focal")
    with as_actor(focal):
        needs.link_ppa(focal, ppa_ids["livelihood"], need.id)
    public_need = needs.public_view(needs.get_public(need.id))
    public_ppa = goals.public_ppa(goals.get_public_ppa(ppa_ids["livelihood"]))
    echo(f"need {need.id}: {public_need['status']} by {public_need['moa']}, {public_need['votes']} votes, in the "
         f"budget since {public_need['budget_included_on']}")
    echo(table(("public PPA page", "budget", "obligated", "disbursed", "progress", "needs addressed"), [
        (_short(public_ppa["title"], 44), _php(str(public_ppa["budget"])), _php(str(public_ppa["obligated"])),
         _php(str(public_ppa["disbursed"])), f"{public_ppa['progress']}%",
         ", ".join(n["title"] for n in public_ppa["needs"]))], align="lrrrrl"))
    echo(f"public pages: /public/needs/{need.id} and /public/ppas/{ppa_ids['livelihood']} (no account needed)")
    if public_need["status"] != "addressed" or public_need["votes"] != len(VOTERS) + 1:
        problems.append(f"the demo need ended {public_need['status']} with {public_need['votes']} votes")
    if not public_ppa["disbursed"] or [n["id"] for n in public_ppa["needs"]] != [need.id]:
        problems.append("the public PPA page does not show the need it addresses and its disbursements")
    shown = repr(public_need) + repr(public_ppa)
    if any(value in shown for value in (username, full_name)):
        problems.append("a public page names the community representative")
    return problems


#: The signatories of an ORS and a DV (rules/default/workflows/ors.yaml, dv.yaml), one per role.
SIGNATORY_ROLES = ("head_of_office", "budget_officer", "accountant", "chief_accountant", "head_of_agency",
                   "disbursing_officer")


def _signatories(org: str) -> dict:
    """Role -> the MOA's user who signs that box (created once: ``<org>.<role>``)."""
    out = {}
    for role in SIGNATORY_ROLES:
        username = f"{org.lower()}.{role}"
        try:
            out[role] = users.get_user_or_raise(username)
        except PpaflowError:
            out[role] = users.add_user(username, [role], organization=org, with_token=False)[0]
    return out


def as_actor(user):
    """Record the block's changes in the audit trail as ``user``'s."""
    return audit_context(AuditContext(actor_id=user.id, actor=user.username, request_id="demo"))


def _spend(user, item_id: int, amount: str) -> None:
    work_items.record_expenditure(user, item_id, Decimal(amount))


def _walk(node: dict):
    yield node
    for child in node["children"]:
        yield from _walk(child)


def _leaves(tree: dict) -> dict[str, int]:
    return {n["title"]: n["work_item_id"] for n in _walk(tree["breakdown"][0]) if not n["children"]}


def _tree_table(root: dict) -> str:
    rows = []
    for node in _walk(root):
        pct = "" if node["variance_pct"] is None else f"{node['variance_pct']:.2f}"
        rows.append(("  " * node["level"] + _short(node["title"], 44 - 2 * node["level"]), node["work_type"],
                     _php(node["allocated_budget"]), _php(node["actual_expenditure"]), _php(node["variance"]),
                     pct, node["budget_status"], node["status"], f"{node['progress']}%"))
    return table(("work item", "type", "allocated", "expended", "variance", "var %", "budget", "status",
                  "progress"), rows, align="llrrrrllr")


def _php(amount: str | None) -> str:
    return "" if amount is None else f"{Decimal(amount):,.2f}"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
