"""Helpers shared by the tests: people with tokens, PPAs over the API."""

from __future__ import annotations

import copy
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from db import db
from services import users

SCHEMATHESIS_CASES = pytest.StashKey[int]()
"""How many schemathesis cases ran this session (on ``config.stash``)."""
SCHEMATHESIS_STEPS = pytest.StashKey[int]()
"""How many steps of schemathesis' stateful sequences ran this session."""

# Technical review is due in 10 business days (rules/default/workflows/approval.yaml). Entered on
# Thursday 5 June 2025 it falls due on Monday 23 June: Eid al-Adha (Fri 6
# June), Independence Day (Thu 12 June) and two weekends are skipped.
STAGE_ENTERED = datetime(2025, 6, 5, 1, 0, tzinfo=UTC)  # 09:00 in Manila


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

    # The cast of docs/design.md §3: one person per role.
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

    # The worked examples' reviewers (workflows/approval.yaml: endorsements, sign-offs, certification).
    @property
    def mpw_engineer(self) -> Person:
        return self.person("mpw.engineer", "mpw_engineer", org="MPW")

    @property
    def gad_endorser(self) -> Person:
        return self.person("bwc.gad", "gad_endorser", org="BWC")

    @property
    def plan_certifier(self) -> Person:
        return self.person("bpda.certifier", "plan_certifier", org="BPDA")

    @property
    def mpw_planner(self) -> Person:
        return self.person("mpw.planner", "planning_officer", org="MPW")

    @property
    def admin(self) -> Person:
        return self.person("admin", "admin")

    # The MOA's signatories of ORS and DV (rules/default/workflows/ors.yaml, dv.yaml).
    @property
    def office_head(self) -> Person:
        """Head of the requesting office: Box A of an ORS and of a DV."""
        return self.person("mssd.office_head", "head_of_office", org="MSSD")

    @property
    def budget_officer(self) -> Person:
        """Box B of an ORS: allotment available, obligated."""
        return self.person("mssd.budget_officer", "budget_officer", org="MSSD")

    @property
    def accountant(self) -> Person:
        """Box B of a DV: the accounting entry."""
        return self.person("mssd.entry_accountant", "accountant", org="MSSD")

    @property
    def chief_accountant(self) -> Person:
        """Box C of a DV: cash available, documents complete."""
        return self.person("mssd.chief_accountant", "chief_accountant", org="MSSD")

    @property
    def agency_head(self) -> Person:
        """Box D of a DV: approved for payment."""
        return self.person("mssd.agency_head", "head_of_agency", org="MSSD")

    @property
    def cashier(self) -> Person:
        """Box E of a DV: the disbursing officer pays it."""
        return self.person("mssd.cashier", "disbursing_officer", org="MSSD")

    @property
    def coa_auditor(self) -> Person:
        """COA's auditor of MSSD: reads, signs nothing."""
        return self.person("mssd.coa_auditor", "coa_auditor", org="MSSD")

    def reviewer_for(self, stage: str) -> Person:
        """The person whose role reviews ``stage`` (or fires its way out)."""
        return {
            "draft": self.focal,
            "technical_review": self.technical_reviewer,
            "budget_review": self.budget_analyst,
            "stakeholder_consultation": self.planning_officer,
            "executive_approval": self.executive,
            "approved": self.budget_analyst,
            "mpw_endorsement": self.mpw_engineer,
            "bwc_endorsement": self.gad_endorser,
            "inter_agency_consultation": self.mpw_planner,
            "bpda_certification": self.plan_certifier,
        }[stage]

    def signers_for(self, stage: str) -> list[Person]:
        """Who signs an n-of-m stage off, one per agency, in order (else the stage's reviewer)."""
        if stage == "inter_agency_consultation":
            return [self.mpw_planner, self.person("milg.planner", "planning_officer", org="MILG")]
        return [self.reviewer_for(stage)]

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
        """Approve a PPA (from draft) stage by stage until it is in
        ``to_stage``, along the route its fields take (an n-of-m stage signed
        off by as many agencies as it needs)."""
        ppa = self.get(ppa_id, self.admin)
        for _ in range(20):
            if ppa["approval_status"] == to_stage:
                return ppa
            stage = ppa["approval_status"]
            assert stage not in ("enacted", "rejected"), f"{to_stage} is not on this PPA's route"
            trigger = {"draft": "submit", "approved": "enact"}.get(stage, "approve")
            for signer in self.signers_for(stage):
                response = self.fire(ppa_id, trigger, signer)
                assert response.status_code == 200, response.get_json()
                ppa = response.get_json()
                if ppa["approval_status"] != stage:
                    break
        raise AssertionError(f"{to_stage} not reached")

    def tracked_ppa(self, to_stage: str, template: str = "minimal", **overrides: Any) -> tuple[dict, int]:
        """A PPA with the ``template`` WBS, advanced to ``to_stage``; returns
        it and the id of its first leaf work item (first child at every level)."""
        ppa = self.create_ppa(wbs_template=template, **overrides)
        self.advance(ppa["id"], to_stage)
        node = self.tree(ppa["id"])["breakdown"][0]
        while node["children"]:
            node = node["children"][0]
        return ppa, node["work_item_id"]

    def ppa_in_stage_since(self, stage: str, at: datetime = STAGE_ENTERED, **overrides: Any) -> dict:
        """A PPA advanced to ``stage`` whose ``stage_entered_at`` is then set
        back to ``at`` behind the services' back (for due times)."""
        ppa = self.create_ppa(**overrides)
        self.advance(ppa["id"], stage)
        with self.app.app_context(), db.engine.begin() as connection:
            connection.execute(text("UPDATE ppas SET stage_entered_at = :at WHERE id = :id"),
                               {"at": at, "id": ppa["id"]})
        return ppa

    def tree(self, ppa_id: int, who: Person | None = None) -> dict:
        """The PPA's ``budget_allocation_tree/`` as ``who`` (the focal person) sees it."""
        response = self.client.get(f"/api/monitoring-entries/{ppa_id}/budget_allocation_tree/",
                                   headers=(who or self.focal).headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def patch(self, path: str, who: Person, body: dict, **headers: str):
        """``PATCH path`` as ``who`` the way a client must: with the ETag of
        a read (by an administrator, so that refusals are ``who``'s own) in
        ``If-Match`` (docs/design.md §5); ``headers`` add to or replace it."""
        read = self.client.get(path, headers=self.admin.headers)
        assert read.status_code == 200, read.get_json()
        return self.client.patch(path, json=body, headers=who.headers | {"If-Match": read.headers["ETag"]} | headers)

    def get(self, ppa_id: int, who: Person) -> dict:
        response = self.client.get(f"/api/monitoring-entries/{ppa_id}", headers=who.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


class Chain:
    """An enacted PPA with an enacted appropriation: a proposal submitted by
    the MOA, reviewed and enacted by two MFBM analysts, and a program budget
    in it (docs/design.md §12); helpers to move money down the chain."""

    def __init__(self, world: World, budget: str = "5000000.00", approved: str = "5000000.00"):
        self.world = world
        self.ppa = world.create_ppa(budget_allocation=budget)["id"]
        world.advance(self.ppa, "enacted")
        self.proposal = self.post("/api/budget-proposals", world.focal, organization="MSSD", fiscal_year=2025,
                                  title="MSSD FY2025 budget proposal")["id"]
        self.program_budget = self.post("/api/program-budgets", world.budget_analyst, proposal_id=self.proposal,
                                        ppa_id=self.ppa, approved_amount=approved)["id"]
        self.enact_proposal(self.proposal)
        self.counter = 0
        self.dates: dict = {}  # allotment id, ("ors", obligation id) -> its date, for the default dates

    def enact_proposal(self, proposal: int) -> dict:
        """Enact one of MSSD's budget proposals (``enact_proposal``)."""
        return enact_proposal(self.world, proposal)

    def post(self, path, who, expect=(200, 201), **body):
        response = self.world.client.post(path, json=body, headers=who.headers)
        assert response.status_code in ((expect,) if isinstance(expect, int) else expect), response.get_json()
        return response.get_json()

    def get(self, path):
        response = self.world.client.get(path, headers=self.world.admin.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def number(self, prefix):
        """A fresh SARO number (``prefix``); ORS and DV numbers are left to
        their series (``services.document_numbers``)."""
        self.counter += 1
        return f"{prefix}-2025-{self.counter:04d}"

    #: The release date of an allotment of each quarter of FY2025 (the quarter comes from it).
    RELEASED = {1: "2025-02-03", 2: "2025-04-01", 3: "2025-07-01", 4: "2025-10-01"}

    def allot(self, amount, quarter=1, expect=201, day=None):
        body = self.post("/api/allotments", self.world.budget_analyst, expect, program_budget_id=self.program_budget,
                         release_date=day or self.RELEASED[quarter], saro_number=self.number("SARO-BARMM"),
                         amount=amount)
        self.dates[body.get("id")] = body.get("release_date")
        return body

    def obligate(self, allotment, amount, expect=201, day=None):
        """Prepare an ORS (the MOA focal person) and have it signed: Box A
        (head of office), Box B (budget officer: it obligates). Returns the
        obligated ORS, or the refusal when ``expect`` is not 201."""
        # By default on 10 March 2025, or on the allotment's release when later (never before it).
        day = day or max("2025-03-10", self.dates.get(allotment) or "")
        body = self.post("/api/obligations", self.world.focal, (201, expect), allotment_id=allotment,
                         payee="Cotabato Training Services Cooperative",
                         particulars="Training venue and meals", obligation_date=day, amount=amount)
        if "id" not in body or "ors_number" not in body:
            return body
        body = self.sign(f"/api/obligations/{body['id']}", expect, self.ors_boxes())
        self.dates[("ors", body.get("id"))] = body.get("obligation_date")
        return body

    def disburse(self, obligation, amount, expect=201, day=None):
        """Prepare a DV (the MOA focal person) and walk it through Boxes A–E:
        head of office, accountant, chief accountant, head of agency, and the
        cashier paying it by check dated ``day``. Returns the paid DV, or the
        refusal when ``expect`` is not 201."""
        day = day or max("2025-04-15", self.dates.get(("ors", obligation)) or "")
        body = self.post("/api/disbursements", self.world.focal, (201, expect), obligation_id=obligation,
                         payment_method="mds_check", disbursement_date=day, amount=amount)
        if "id" not in body or "dv_number" not in body:
            return body
        return self.sign(f"/api/disbursements/{body['id']}", expect, self.dv_boxes(day))

    def ors_boxes(self) -> list:
        """The signatures of an ORS after its preparation: Box A, Box B."""
        return [("certify_charges", self.world.office_head, {}), ("certify_obligation", self.world.budget_officer, {})]

    def dv_boxes(self, day: str, number: str = "") -> list:
        """The signatures of a DV after its preparation: Boxes A to E, paid by a check dated ``day``."""
        w = self.world
        number = number or self.number("CHK")
        return [("certify_necessary", w.office_head, {}), ("record_entry", w.accountant, {}),
                ("certify_cash", w.chief_accountant, {}), ("approve_payment", w.agency_head, {}),
                ("pay", w.cashier, {"check_ada_number": f"CHK-{number}", "check_ada_date": day,
                                    "jev_number": f"JEV-{number}"})]

    def certify(self, obligation: int, expect=201) -> dict:
        """Sign Boxes A and B of a prepared ORS: it is obligated (or refused with ``expect``)."""
        return self.sign(f"/api/obligations/{obligation}", expect, self.ors_boxes())

    def ors_ready_for_box_b(self, allotment, amount, day="2025-03-10", **extra) -> int:
        """An ORS prepared and signed in Box A, waiting for the budget officer (Box B); its id."""
        body = self.post("/api/obligations", self.world.focal, 201, allotment_id=allotment, payee="Supplier",
                         obligation_date=day, amount=amount, **extra)
        self.sign(f"/api/obligations/{body['id']}", 201, self.ors_boxes()[:1])
        return body["id"]

    def dv_ready_to_pay(self, obligation, amount, day="2025-04-15") -> int:
        """A DV prepared and signed in Boxes A to D, waiting for the cashier (Box E); its id."""
        body = self.post("/api/disbursements", self.world.focal, 201, obligation_id=obligation,
                         payment_method="mds_check", disbursement_date=day, amount=amount)
        self.sign(f"/api/disbursements/{body['id']}", 201, self.dv_boxes(day)[:4])
        return body["id"]

    def box_b(self, obligation: int):
        """A request function (for ``race``): the budget officer signs Box B of the ORS."""
        headers = self.world.budget_officer.headers
        return lambda client: client.post(f"/api/obligations/{obligation}/transitions",
                                          json={"trigger": "certify_obligation"}, headers=headers)

    def box_e(self, disbursement: int, day: str = "2025-04-15"):
        """A request function (for ``race``): the cashier pays the DV by a check dated ``day``."""
        headers = self.world.cashier.headers
        body = {"trigger": "pay", "check_ada_number": f"CHK-{disbursement}", "check_ada_date": day,
                "jev_number": f"JEV-{disbursement}"}
        return lambda client: client.post(f"/api/disbursements/{disbursement}/transitions", json=body,
                                          headers=headers)

    def sign(self, path, expect, steps):
        """Fire ``steps`` ``(trigger, person, extra body)`` on the document at
        ``path``; every step but the last must succeed; the last answers
        200, or ``expect`` when that is not 201. Returns the last answer."""
        for index, (trigger, who, extra) in enumerate(steps):
            last = index == len(steps) - 1
            response = self.world.client.post(f"{path}/transitions", json={"trigger": trigger} | extra,
                                              headers=who.headers)
            wanted = 200 if not last or expect == 201 else expect
            assert response.status_code == wanted, (trigger, response.get_json())
            body = response.get_json()
        return body


def certify_ors(world: World, obligation: int, org: str = "MSSD") -> dict:
    """Have ``org``'s head of office (Box A) and budget officer (Box B) sign
    a prepared ORS; returns it obligated (MSSD's are ``world.office_head``
    and ``world.budget_officer``)."""
    for trigger, role, name in (("certify_charges", "head_of_office", "office_head"),
                                ("certify_obligation", "budget_officer", "budget_officer")):
        who = world.person(f"{org.lower()}.{name}", role, org=org)
        response = world.client.post(f"/api/obligations/{obligation}/transitions", json={"trigger": trigger},
                                     headers=who.headers)
        assert response.status_code == 200, response.get_json()
    return response.get_json()


def pay_dv(world: World, disbursement: int, day: str, org: str = "MSSD") -> dict:
    """Have ``org``'s signatories sign Boxes A to D of a prepared DV and its
    disbursing officer pay it by a check dated ``day`` (Box E); returns it
    paid (MSSD's people are ``world``'s, as in ``Chain.dv_boxes``)."""
    steps = (("certify_necessary", "head_of_office", "office_head"), ("record_entry", "accountant", "entry_accountant"),
             ("certify_cash", "chief_accountant", "chief_accountant"),
             ("approve_payment", "head_of_agency", "agency_head"), ("pay", "disbursing_officer", "cashier"))
    for trigger, role, name in steps:
        who = world.person(f"{org.lower()}.{name}", role, org=org)
        body = {"trigger": trigger} | ({"check_ada_number": f"CHK-{disbursement}", "check_ada_date": day,
                                        "jev_number": f"JEV-{disbursement}"} if trigger == "pay" else {})
        response = world.client.post(f"/api/disbursements/{disbursement}/transitions", json=body, headers=who.headers)
        assert response.status_code == 200, response.get_json()
    return response.get_json()


def enact_proposal(world: World, proposal: int, submitter: Person | None = None) -> dict:
    """Submit (``submitter``, the MOA focal person, MSSD's by default), review
    (an MFBM analyst) and enact (another MFBM analyst: separation of duties,
    rules/default/workflows/budget_proposal.yaml) a budget proposal; returns
    it enacted."""
    second_analyst = world.person("mfbm.analyst2", "budget_analyst", org="MFBM")
    for trigger, who in (("submit", submitter or world.focal), ("review", world.budget_analyst),
                         ("enact", second_analyst)):
        response = world.client.post(f"/api/budget-proposals/{proposal}/transitions", json={"trigger": trigger},
                                     headers=who.headers)
        assert response.status_code == 200, response.get_json()
    return response.get_json()


def race(app, requests):
    """Run the request functions at the same moment, one thread each; return
    the responses in order."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index, request):
        client = app.test_client()
        barrier.wait()
        try:
            results[index] = request(client)
        except BaseException as exc:  # surfaced below, in the test's thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def cli(app, *args: str, input: str | None = None):  # noqa: A002 - click's name
    """Run ``ppaflow ARGS`` against ``app``'s database with jobs inline
    (``input``: what standard input holds); an unexpected exception
    propagates instead of hiding in the output."""
    from click.testing import CliRunner

    from web.cli import main

    env = {"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": ""}
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def shipped_rules(directory=None):
    """The rules as the app loads them (with the effect registry)."""
    import web.api  # noqa: F401  (imports every service, so every kind of record has registered its workflow)
    from jobs.registry import known_jobs
    from rules import load_rules
    from services.effects import known_effects
    from services.workflows import required_workflows

    return load_rules(directory, known_effects=known_effects(), known_jobs=known_jobs(),
                      required_workflows=required_workflows())


T = TypeVar("T")

#: (backend, key) -> what ``built_once`` keeps of a build: the rows it left,
#: the people it made, the world it ran in and what it returned.
_BUILT: dict[tuple[str, str], tuple] = {}


def built_once(world: World, key: str, build: Callable[[World], T]) -> T:
    """``build(world)``, run for real once per backend and session: later, on a
    clean database, the rows it left are copied in instead (SQLite: the whole
    file; PostgreSQL: every table, with triggers off as ``pg_restore`` does,
    and the sequences), ``world`` learns the people it made, and a deep copy
    of what it returned is given back, bound to ``world``. A fixture that
    builds the same data for many tests (``chain``) costs one build per run.

    ``key`` names the build (letters, digits, underscores). A database that is
    not clean (a table holds a row: some fixture wrote first) gets a real
    build, as before.
    """
    backend = world.app.config["BACKEND"]
    kept = _BUILT.get((backend, key))
    clean = not world._people and not any(_table_counts(world.app))
    if kept is not None and clean and _restore(world.app, key, kept[0]):
        world._people.update(kept[1])
        return copy.deepcopy(kept[3], memo={id(kept[2]): world})
    result = build(world)
    if kept is None and clean:  # kept as built: the test about to use ``result`` changes it (a counter, say)
        _BUILT[(backend, key)] = (_capture(world.app, key), dict(world._people), world,
                                  copy.deepcopy(result, memo={id(world): world}))
    return result


#: Tables an application fills as it starts, before any test writes: the
#: rule set it loaded (``services.rule_sets.record_loaded``). A database
#: holding only these is clean for ``built_once``, and they are not copied
#: (the application about to use a copy has stored its own row).
APP_START_TABLES = frozenset({"rule_sets"})


def _table_counts(app) -> tuple[int, ...]:
    """How many rows each table of the schema holds (one statement), but
    ``APP_START_TABLES``."""
    tables = [table for table in db.metadata.sorted_tables if table.name not in APP_START_TABLES]
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            return tuple(connection.execute(select(*[
                select(func.count()).select_from(table).scalar_subquery() for table in tables])).one())


def _capture(app, key: str):
    """Keep what ``app``'s database holds now: an in-memory copy of the SQLite
    file, or on PostgreSQL a copy of every non-empty table in schema
    ``test_built_<key>`` and the sequences' values."""
    assert re.fullmatch(r"\w+", key), key
    with app.app_context():
        db.session.remove()
        engine = db.engine
        if app.config["BACKEND"] == "sqlite":
            return _sqlite_copy(engine)
        schema = f"test_built_{key}"
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
            tables = []
            for table in db.metadata.sorted_tables:
                if table.name in APP_START_TABLES:
                    continue
                if connection.execute(select(func.count()).select_from(table)).scalar():
                    connection.execute(text(f'CREATE TABLE {schema}."{table.name}" AS TABLE public."{table.name}"'))
                    tables.append(table.name)
            sequences = connection.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL")).all()
        return tables, [tuple(row) for row in sequences]


def _restore(app, key: str, data) -> bool:
    """Copy what ``_capture`` kept into ``app``'s (clean) database; ``False``
    if it cannot (no right to turn triggers off)."""
    with app.app_context():
        db.session.remove()
        engine = db.engine
        if app.config["BACKEND"] == "sqlite":
            _sqlite_put_back(engine, data)
            return True
        tables, sequences = data
        try:
            with engine.begin() as connection:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                for name in tables:
                    connection.execute(text(f'INSERT INTO public."{name}" SELECT * FROM test_built_{key}."{name}"'))
                for name, value in sequences:
                    connection.execute(text("SELECT setval(:name, :value)"), {"name": f'public."{name}"',
                                                                             "value": value})
        except DBAPIError:
            return False
        return True


def _sqlite_copy(engine) -> sqlite3.Connection:
    """An in-memory copy of the SQLite database of ``engine`` (its connections closed first)."""
    engine.dispose()
    copy_ = sqlite3.connect(":memory:", check_same_thread=False)
    with closing(sqlite3.connect(engine.url.database)) as source:
        source.backup(copy_)
    return copy_


def _sqlite_put_back(engine, copy_: sqlite3.Connection) -> None:
    """Make the SQLite database of ``engine`` what ``copy_`` holds (its connections closed first)."""
    engine.dispose()
    with closing(sqlite3.connect(engine.url.database)) as target:
        copy_.backup(target)


@contextmanager
def rolled_back(application) -> Iterator[None]:
    """Undo whatever the block writes to ``application``'s database, so that
    data built once (a module-scoped fixture) serves every test of a module.

    PostgreSQL: the block runs on one connection inside an outer transaction
    that is rolled back at the end; each request's session joins it with a
    SAVEPOINT, so a request's COMMIT (or its ROLLBACK after a refusal) ends
    only its savepoint. Not for blocks that need other connections (``race``,
    threads) or that use ``db.engine`` directly (idempotency keys, web sessions).
    SQLite: the database file is copied before and put back after.
    """
    with application.app_context():
        db.session.remove()
        engines = db.engines
        engine = engines[None]
        if application.config["BACKEND"] == "sqlite":
            snapshot = _sqlite_copy(engine)
        else:
            connection = engine.connect()
            outer = connection.begin()
            engines[None] = connection  # type: ignore[index]  (Flask-SQLAlchemy's dict of this app's engines)
            db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        with application.app_context():
            db.session.remove()
            if application.config["BACKEND"] == "sqlite":
                _sqlite_put_back(engine, snapshot)
                snapshot.close()
            else:
                db.session.session_factory.kw.pop("join_transaction_mode")  # back to SQLAlchemy's default
                engines[None] = engine  # type: ignore[index]
                outer.rollback()
                connection.close()
