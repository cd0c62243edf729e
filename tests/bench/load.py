"""``make load``: ppaflow under sustained mixed load on PostgreSQL (issue 6).

gunicorn (``ppaflow serve --workers N``) serves a PostgreSQL database of its
own; a bounded load generator (``CLIENTS`` httpx clients in one asyncio
loop, each sending its next request when the last one answered) runs a mixed
workload on loopback for ``SECONDS``:

==============  ======  ==================================================
operation       weight  request
==============  ======  ==================================================
list            25      ``GET /api/monitoring-entries?page=..`` (a MOA focal or admin)
read            10      ``GET /api/monitoring-entries/<id>``
history          5      ``GET /api/monitoring-entries/<id>/history``
tree            20      ``GET .../budget_allocation_tree/`` of an enacted PPA
transition      20      ``POST .../transitions``: the next step of a PPA in review
expenditure     15      ``POST /api/work-items/<leaf>/expenditures``
create           5      ``POST /api/monitoring-entries`` with an ``Idempotency-Key``; one in
                        three sent twice at once (a racing retry)
==============  ======  ==================================================

Then the same clients send only ``GET /api/me`` (an authenticated no-op:
token lookup, hooks, a small JSON answer) for ``ME_SECONDS``, and the server
CPU per request of the mix is printed beside that of the no-op, measured in
the same run on the same machine: the mix should cost at most ``2x`` the
no-op (issue 17), what a request costs beyond the work it asks for.

Two clients may pick the same PPA at the same moment: the loser of that race
gets 409 (wrong stage) or 403 (separation of duties), which is counted as
*refused*, not as an error. An *error* is a transport failure, a 5xx, or any
other status the operation should not answer.

Afterwards the database is checked against what the clients were told:
transition history rows = successful transitions, every PPA in the stage its
last successful transition answered, every work item's expenditure = the
accepted amounts, every PPA's rolled-up expenditure (its budget tree and the
PPA itself) = its accepted amounts, one PPA per create however often sent.

Environment: ``LOAD_DATABASE_URL`` (default: database ``ppaflow_load`` on the
server of ``TEST_DATABASE_URL``, created when missing, emptied each run),
``LOAD_REDIS_URL`` (default ``redis://127.0.0.1:6379/14``; used for rate
limits and the job queue when it answers), ``LOAD_SECONDS`` (60),
``LOAD_CLIENTS`` (50), ``LOAD_WORKERS`` (2 x cores + 1), ``LOAD_THREADS`` (4),
``LOAD_WARMUP_SECONDS`` (5, measured for consistency but not for latency),
``LOAD_ME_SECONDS`` (15; the ``GET /api/me`` phase, after a 2 s warm-up).
Exits 1 on any error or inconsistency (not on the CPU ratio: the figures
of a shared machine are too noisy to fail on).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db import db
from db.migrate import recreate
from db.urls import normalize_database_url
from tests.support import Person, World, ppa_body
from web import create_app

SECONDS = float(os.environ.get("LOAD_SECONDS", 60))
CLIENTS = int(os.environ.get("LOAD_CLIENTS", 50))
WORKERS = int(os.environ.get("LOAD_WORKERS", 2 * (os.cpu_count() or 1) + 1))
THREADS = int(os.environ.get("LOAD_THREADS", 4))
WARMUP = float(os.environ.get("LOAD_WARMUP_SECONDS", 5))
ME_SECONDS = float(os.environ.get("LOAD_ME_SECONDS", "15"))
ME_WARMUP = 2.0
TRACKED_PPAS = 20
PPAS_IN_REVIEW = 300
REVIEWERS_PER_ROLE = 5

WEIGHTS = {"list": 25, "read": 10, "history": 5, "tree": 20, "transition": 20, "expenditure": 15, "create": 5}
ME_WEIGHTS = {"me": 1}
#: The mix may cost at most this many times the server CPU of ``GET /api/me`` per request (issue 17).
TARGET_RATIO = 2.0
REVIEWER_ROLE = {"draft": "moa_focal", "technical_review": "technical_reviewer", "budget_review": "budget_analyst",
                 "stakeholder_consultation": "planning_officer", "executive_approval": "executive",
                 "approved": "budget_analyst"}


@dataclass
class Cast:
    """Who sends the requests: tokens by role."""

    focal: Person
    admin: Person
    reviewers: dict[str, list[Person]]

    def reviewer_for(self, stage: str) -> Person:
        role = REVIEWER_ROLE[stage]
        return self.focal if role == "moa_focal" else random.choice(self.reviewers[role])


@dataclass
class State:
    """What the clients were told, to check the database against."""

    stages: dict[int, str]                      # PPA id -> stage its last successful transition answered
    tracked: list[int]                          # enacted PPAs with a WBS
    leaves: list[tuple[int, int]]               # (PPA id, work item id) of the leaves of the tracked PPAs
    transitions: int = 0                        # successful transitions
    created: set[int] = field(default_factory=set)
    retries: int = 0                            # creates sent twice at once with one key
    retries_split: int = 0                      # ... answered with two different PPAs
    accepted: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # leaf -> PHP

    def in_review(self) -> list[int]:
        """The PPAs a transition can still move (not yet enacted)."""
        return [ppa for ppa, stage in self.stages.items() if stage in REVIEWER_ROLE]


@dataclass
class Tally:
    """Outcomes and latencies of one operation."""

    ok: int = 0
    refused: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)   # seconds, after the warm-up
    samples: list[str] = field(default_factory=list)        # the first few errors


# -- set-up ---------------------------------------------------------------------------------------

def database_url() -> str:
    """The load database's URL; the database is created when missing."""
    url = os.environ.get("LOAD_DATABASE_URL")
    if not url:
        base = make_url(normalize_database_url(os.environ.get("TEST_DATABASE_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/test")))
        url = base.set(database="ppaflow_load").render_as_string(hide_password=False)
    url = normalize_database_url(url)
    name = make_url(url).database
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return url


def redis_url() -> str | None:
    """``LOAD_REDIS_URL`` when it answers (flushed), else None."""
    url = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except Exception:  # not reachable: serve without Redis, as documented
        return None
    return url


def prepare(url: str) -> tuple[Cast, State, dict[str, int]]:
    """Empty and migrate the database, then create the people, the enacted
    PPAs with a WBS and the PPAs in review (over the API, in process).
    Returns the cast, the initial state and the row counts to compare with."""
    recreate(url)
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "RATE_LIMIT": "1000000 per minute"})
    world = World(app)
    reviewers = {role: [world.person(f"{role}{i}", role, org="BPDA") for i in range(REVIEWERS_PER_ROLE)]
                 for role in set(REVIEWER_ROLE.values()) - {"moa_focal"}}
    cast = Cast(world.focal, world.admin, reviewers)
    tracked, leaves = [], []
    for n in range(TRACKED_PPAS):
        ppa = world.create_ppa(title=f"Enacted program {n}", wbs_template="program")
        world.advance(ppa["id"], "enacted")
        tree = world.client.get(f"/api/monitoring-entries/{ppa['id']}/budget_allocation_tree/",
                                headers=cast.focal.headers).get_json()
        tracked.append(ppa["id"])
        leaves += [(ppa["id"], item) for item in _leaves(tree["breakdown"])]
    stages = {world.create_ppa(title=f"PPA in review {n}")["id"]: "draft" for n in range(PPAS_IN_REVIEW)}
    with app.app_context():
        baseline = counts()
        db.session.remove()
        db.engine.dispose()
    return cast, State(stages, tracked, leaves), baseline


def _leaves(nodes: list[dict]) -> list[int]:
    found = []
    for node in nodes:
        found += _leaves(node["children"]) if node["children"] else [node["work_item_id"]]
    return found


def counts() -> dict[str, int]:
    """Rows the workload adds to (inside an app context)."""
    return {"transitions": db.session.scalar(text("SELECT count(*) FROM ppa_transitions")),
            "ppas": db.session.scalar(text("SELECT count(*) FROM ppas"))}


# -- the server -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, redis: str | None, port: int, log: Path) -> subprocess.Popen:
    """``ppaflow serve --workers N`` in the background, once ``/readyz`` answers 200."""
    environment = os.environ | {"DATABASE_URL": url, "RATE_LIMIT": "1000000 per minute"}
    environment.pop("REDIS_URL", None)
    if redis:
        environment["REDIS_URL"] = redis
    ppaflow = Path(sys.executable).with_name("ppaflow")
    server = subprocess.Popen([str(ppaflow), "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(WORKERS), "--threads", str(THREADS)],
                              env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"the server was not ready within 60 s; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# -- the workload ---------------------------------------------------------------------------------

class Workload:
    """The clients' requests and what each answer means."""

    def __init__(self, client: httpx.AsyncClient, cast: Cast, state: State):
        self.client, self.cast, self.state = client, cast, state

    async def me(self):
        """``GET /api/me`` as anyone of the cast: the authenticated no-op."""
        who = random.choice([self.cast.focal, self.cast.admin, *self.cast.reviewers["budget_analyst"]])
        response = await self.client.get("/api/me", headers=who.headers)
        return response, response.status_code == 200

    async def list(self):
        who = random.choice([self.cast.focal, self.cast.admin])
        response = await self.client.get(f"/api/monitoring-entries?page={random.randint(1, 5)}",
                                         headers=who.headers)
        return response, response.status_code == 200

    async def read(self):
        response = await self.client.get(f"/api/monitoring-entries/{self._any_ppa()}", headers=self.cast.focal.headers)
        return response, response.status_code == 200

    async def history(self):
        response = await self.client.get(f"/api/monitoring-entries/{self._any_ppa()}/history",
                                         headers=self.cast.focal.headers)
        return response, response.status_code == 200

    async def tree(self):
        ppa = random.choice(self.state.tracked)
        response = await self.client.get(f"/api/monitoring-entries/{ppa}/budget_allocation_tree/",
                                         headers=self.cast.focal.headers)
        return response, response.status_code == 200

    async def transition(self):
        ppa = random.choice(self.state.in_review())
        stage = self.state.stages[ppa]
        trigger, body = {"draft": "submit", "approved": "enact"}.get(stage, "approve"), {}
        if trigger == "approve" and random.random() < 0.1:
            trigger, body = "return_for_revision", {"comment": "Please attach the revised work plan."}
        response = await self.client.post(f"/api/monitoring-entries/{ppa}/transitions",
                                          json={"trigger": trigger} | body,
                                          headers=self.cast.reviewer_for(stage).headers)
        if response.status_code == 200:
            self.state.transitions += 1
            self.state.stages[ppa] = response.json()["approval_status"]
            return response, True
        return response, None if response.status_code in (403, 409) else False

    async def expenditure(self):
        _, item = random.choice(self.state.leaves)
        amount = Decimal(random.randint(100, 99_999)) / 100
        response = await self.client.post(f"/api/work-items/{item}/expenditures", json={"amount": str(amount)},
                                          headers=self.cast.focal.headers)
        if response.status_code == 200:
            self.state.accepted[item] += amount
        return response, response.status_code == 200

    async def create(self):
        """A new PPA; one time in three the client sends it twice at once
        with the same key (a retry racing the original): both must answer
        201 with the same PPA."""
        headers = self.cast.focal.headers | {"Idempotency-Key": uuid.uuid4().hex}
        copies = 2 if random.random() < 1 / 3 else 1
        responses = await asyncio.gather(*(
            self.client.post("/api/monitoring-entries", json=ppa_body(title="New PPA under load"), headers=headers)
            for _ in range(copies)))
        if any(response.status_code != 201 for response in responses):
            return next(r for r in responses if r.status_code != 201), False
        ids = {response.json()["id"] for response in responses}
        self.state.created |= ids
        self.state.stages.update(dict.fromkeys(ids, "draft"))
        if copies == 2:
            self.state.retries += 1
            self.state.retries_split += len(ids) > 1
        return responses[0], len(ids) == 1

    def _any_ppa(self) -> int:
        return random.choice(self.state.tracked) if random.random() < 0.3 else random.choice(list(self.state.stages))


def cpu_seconds(server_pid: int, database: str) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server's processes,
    the load database's backends and this process (Linux ``/proc``)."""
    totals = {"server": 0.0, "PostgreSQL": 0.0, "load generator": time.process_time()}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            line, command = stat.read_text(), (stat.parent / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        pid, rest = int(line.split(" ", 1)[0]), line[line.rindex(")") + 2:].split()
        used = (int(rest[11]) + int(rest[12])) / tick
        if pid == server_pid or int(rest[1]) == server_pid:
            totals["server"] += used
        elif command.startswith(b"postgres: ") and f" {database} ".encode() in command:
            totals["PostgreSQL"] += used
    return totals


async def drive(port: int, cast: Cast, state: State, cpu, *, mix: dict[str, int] = WEIGHTS,
                seconds: float = SECONDS, warmup: float = WARMUP) -> tuple[dict[str, Tally], float, dict[str, float]]:
    """Run ``CLIENTS`` clients sending the operations of ``mix`` (name ->
    weight) for ``warmup + seconds``; returns the tallies, the measured
    (post-warm-up) duration in seconds and the CPU seconds each party used
    meanwhile (``cpu()`` reads the counters)."""
    tallies = {name: Tally() for name in mix}
    names, weights = list(mix), list(mix.values())
    # Clients drop idle connections (1 s) before gunicorn would (keepalive 5 s), or a request
    # sent on a connection the server is closing fails: the classic keep-alive race.
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS, keepalive_expiry=1)
    start = time.perf_counter()
    measured_from, end = start + warmup, start + warmup + seconds
    used = {}

    async def measure() -> None:
        await asyncio.sleep(warmup)
        used.update(cpu())

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:
        workload = Workload(client, cast, state)

        async def run_client() -> None:
            while (now := time.perf_counter()) < end:
                name = random.choices(names, weights)[0]
                tally = tallies[name]
                try:
                    response, ok = await getattr(workload, name)()
                except httpx.HTTPError as exc:
                    response, ok = None, False
                    reason = f"{name}: {exc.__class__.__name__}: {exc}"
                else:
                    reason = f"{name}: {response.status_code} {response.text[:200]}"
                took = time.perf_counter() - now
                if ok is None:
                    tally.refused += 1
                elif ok:
                    tally.ok += 1
                else:
                    tally.errors += 1
                    if len(tally.samples) < 3:
                        tally.samples.append(reason)
                if now >= measured_from:
                    tally.latencies.append(took)

        await asyncio.gather(measure(), *(run_client() for _ in range(CLIENTS)))
    seconds = time.perf_counter() - measured_from
    return tallies, seconds, {party: total - used[party] for party, total in cpu().items()}


# -- the check ------------------------------------------------------------------------------------

def check(url: str, port: int, cast: Cast, state: State, baseline: dict[str, int]) -> list[tuple[str, bool, str]]:
    """Compare the database, and the budget trees and PPAs the server now
    serves, with what the clients were told; returns ``(check, passed,
    figures)`` rows."""
    engine = create_engine(url)
    results = []
    with engine.connect() as connection:
        transitions = connection.scalar(text("SELECT count(*) FROM ppa_transitions")) - baseline["transitions"]
        results.append(("history rows = successful transitions", transitions == state.transitions,
                        f"{transitions} rows, {state.transitions} successes"))
        stages = dict(connection.execute(text("SELECT id, approval_status FROM ppas WHERE id = ANY(:ids)"),
                                         {"ids": list(state.stages)}).all())
        wrong = [ppa for ppa, stage in state.stages.items() if stages.get(ppa) != stage]
        results.append(("every PPA in the stage its last transition answered", not wrong,
                        f"{len(state.stages)} PPAs, {len(wrong)} differ"))
        created = connection.scalar(text("SELECT count(*) FROM ppas")) - baseline["ppas"]
        results.append(("PPAs created = PPAs answered 201", created == len(state.created),
                        f"{created} rows, {len(state.created)} PPAs answered"))
        results.append(("a create sent twice with one key made one PPA", state.retries_split == 0,
                        f"{state.retries} sent twice, {state.retries_split} made two"))
        spent = dict(connection.execute(text(
            "SELECT id, actual_expenditure FROM work_items WHERE id = ANY(:ids)"),
            {"ids": [item for _, item in state.leaves]}).all())
        wrong = [item for _, item in state.leaves if Decimal(spent[item]) / 100 != state.accepted[item]]
        total = sum(state.accepted.values(), Decimal(0))
        results.append(("every work item's expenditure = accepted amounts", not wrong,
                        f"{len(state.leaves)} items, {len(wrong)} differ; PHP {total:,.2f} accepted"))
    engine.dispose()
    per_ppa = defaultdict(Decimal)
    for ppa, item in state.leaves:
        per_ppa[ppa] += state.accepted[item]
    wrong = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=cast.focal.headers, timeout=30) as client:
        for ppa in state.tracked:
            tree = client.get(f"/api/monitoring-entries/{ppa}/budget_allocation_tree/").json()
            served = client.get(f"/api/monitoring-entries/{ppa}").json()
            if not Decimal(tree["total_expended"]) == Decimal(served["actual_expenditure"]) == per_ppa[ppa]:
                wrong.append(ppa)
    results.append(("every PPA's rolled-up expenditure (tree and PPA) = its accepted amounts", not wrong,
                    f"{len(state.tracked)} PPAs, {len(wrong)} differ"))
    return results


def report(tallies: dict[str, Tally], seconds: float, used: dict[str, float],
           me: tuple[dict[str, Tally], float, dict[str, float]], checks: list[tuple[str, bool, str]], log: Path) -> bool:
    """Print the tables of both phases, the server CPU per request of the
    mix beside that of ``GET /api/me`` (``me``: the second phase's
    tallies, seconds and CPU) and the checks; True when all is well."""
    mixed = _table(tallies, seconds, used, WARMUP)
    print("\nGET /api/me alone (same clients, same server):", end="")
    alone = _table(*me, ME_WARMUP)
    ratio = mixed.server_ms / alone.server_ms if alone.server_ms else math.inf
    print(f"\nserver CPU per request: mixed {mixed.server_ms:.1f} ms, GET /api/me {alone.server_ms:.1f} ms: "
          f"{ratio:.2f}x (target <= {TARGET_RATIO:g}x: {'met' if ratio <= TARGET_RATIO else 'NOT met'})")
    for tally in [*tallies.values(), *me[0].values()]:
        for sample in tally.samples:
            print(f"  error: {sample}")
    server_errors = sum(_is_error(line) for line in log.open())
    print(f"server log: {server_errors} error lines ({log})")
    print("\nconsistency:")
    for name, passed, figures in checks:
        print(f"  {'ok ' if passed else 'BAD'} {name}: {figures}")
    return mixed.errors == 0 and alone.errors == 0 and server_errors == 0 and all(passed for _, passed, _ in checks)


@dataclass
class Phase:
    """What a phase's table adds up to."""

    errors: int
    server_ms: float     # server CPU per measured request, milliseconds


def _table(tallies: dict[str, Tally], seconds: float, used: dict[str, float], warmup: float) -> Phase:
    """Print one phase: requests, outcomes and latencies by operation, then
    throughput and CPU per request of each party."""
    print(f"\n{'operation':<12} {'requests':>9} {'ok':>7} {'refused':>8} {'errors':>7} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    everything = []
    for name, tally in tallies.items():
        everything += tally.latencies
        print(_row(name, tally.ok + tally.refused + tally.errors, tally.ok, tally.refused, tally.errors,
                   tally.latencies))
    total = Tally(sum(t.ok for t in tallies.values()), sum(t.refused for t in tallies.values()),
                  sum(t.errors for t in tallies.values()))
    print(_row("all", total.ok + total.refused + total.errors, total.ok, total.refused, total.errors, everything))
    measured = max(len(everything), 1)
    print(f"\nthroughput: {len(everything) / seconds:,.1f} requests/s over {seconds:.1f} s "
          f"(after a {warmup:g} s warm-up), {CLIENTS} clients")
    print("CPU per request: " + ", ".join(f"{party} {seconds_ / measured * 1000:.1f} ms"
                                         for party, seconds_ in used.items())
          + f"; {sum(used.values()) / seconds:.2f} of {os.cpu_count()} cores busy")
    return Phase(total.errors, used["server"] / measured * 1000)


def _is_error(line: str) -> bool:
    try:
        return json.loads(line).get("level") in ("ERROR", "CRITICAL")
    except ValueError:  # not a JSON log line: gunicorn's own, or a traceback
        return "Traceback" in line or "[ERROR]" in line


def _row(name: str, requests: int, ok: int, refused: int, errors: int, latencies: list[float]) -> str:
    if len(latencies) >= 2:
        cuts = statistics.quantiles(latencies, n=100)
        p50, p95, p99 = (f"{cuts[i] * 1000:.1f}" for i in (49, 94, 98))
    else:
        p50 = p95 = p99 = "-"
    return f"{name:<12} {requests:>9,} {ok:>7,} {refused:>8,} {errors:>7,} {p50:>8} {p95:>8} {p99:>8}"


def main() -> int:
    url, redis = database_url(), redis_url()
    print(f"ppaflow load: {CLIENTS} clients for {SECONDS:g} s against gunicorn ({WORKERS} workers x {THREADS} "
          f"threads) on PostgreSQL, Redis {'on' if redis else 'off (jobs inline)'}")
    print(f"preparing: {TRACKED_PPAS} enacted PPAs with a WBS, {PPAS_IN_REVIEW} PPAs in draft ...", flush=True)
    cast, state, baseline = prepare(url)
    print(f"  {len(state.leaves)} leaf work items")
    log = Path(tempfile.mkdtemp(prefix="ppaflow-load-")) / "server.log"
    port = free_port()
    server = start_server(url, redis, port, log)
    try:
        print(f"running on 127.0.0.1:{port} ...", flush=True)
        database = make_url(url).database
        cpu = lambda: cpu_seconds(server.pid, database)
        tallies, seconds, used = asyncio.run(drive(port, cast, state, cpu))
        print(f"then GET /api/me alone for {ME_SECONDS:g} s ...", flush=True)
        me = asyncio.run(drive(port, cast, state, cpu, mix=ME_WEIGHTS, seconds=ME_SECONDS, warmup=ME_WARMUP))
        checks = check(url, port, cast, state, baseline)
    finally:
        stop_server(server)
    healthy = report(tallies, seconds, used, me, checks, log)
    print("\nresult: " + ("no errors, no inconsistencies" if healthy else "FAILED"))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
