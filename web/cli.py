"""The ``ppaflow`` command line (docs/design.md §1).

Every command builds the app with ``create_app()`` (configuration from the
environment) and calls the same service functions as the API.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from db import db
from db.audit import AuditContext, audit_context
from db.migrate import APPEND_ONLY_TABLES, init_database
from db.models import JobRecord
from db.types import utcnow
from jobs.clock import build_local_scheduler, start_local_scheduler, upcoming
from jobs.queue import enqueue, redispatch_lost
from jobs.registry import KINDS, known_jobs
from jobs.worker import build_scheduler, build_worker
from rules import DEFAULT_RULES_DIR, diagrams, load_rules
from rules.diff import diff_rule_sets
from rules.migration import parse_mapping
from services import approvals, delegations, reports, rule_migrations, rule_sets, sweeps, users
from services import privacy as privacy_service
from services.access import Operator
from services.effects import known_effects
from services.runtime import get_runtime, runtimes
from services.unit_of_work import transaction
from services.workflows import required_workflows
from web.app import create_app, tune_gc
from web.config import ConfigurationError
from web.console import table
from web.demo import run_demo
from web.examples import CREDENTIALS_FILE, example_credentials, load_examples
from web.logs import configure as configure_logging
from web.server import Server
from workflow.errors import PpaflowError, RulesError
from workflow.vocabulary import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR


@contextmanager
def app_context(config: dict | None = None) -> Iterator[Flask]:
    """An app context, or a clean exit 1 when the rules are broken."""
    try:
        app = create_app(config)
    except RulesError as exc:
        click.echo("ppaflow: refusing to start: the rule set is broken:", err=True)
        for line in exc.errors:
            click.echo(f"  {line}", err=True)
        sys.exit(1)
    except ConfigurationError as exc:
        click.echo(f"ppaflow: refusing to start: {exc}", err=True)
        sys.exit(1)
    with app.app_context():
        yield app


def fail_on_domain_errors(function):
    """Turn domain errors into one readable line and exit status 1."""

    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except PpaflowError as exc:
            click.echo(f"ppaflow: {exc.code}: {exc.detail}", err=True)
            sys.exit(1)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


@click.group()
def main() -> None:
    """ppaflow: approval and execution of BARMM PPAs."""


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations) as the
    owner (DATABASE_OWNER_URL, default DATABASE_URL); when the app runs as
    another PostgreSQL role, grant it what it needs and no more."""
    with app_context() as app:
        owner_url = app.config["DATABASE_OWNER_URL"]
        before, after, role = init_database(db.engine, owner_url, app.config["DATABASE_URL"])
        url = safe_url(owner_url)
        if before == after:
            click.echo(f"database {url} is up to date (revision {after})")
        else:
            click.echo(f"database {url} upgraded from {before or 'empty'} to revision {after}")
        if role is not None:
            click.echo(f"granted {role} the app's privileges: no UPDATE, DELETE or TRUNCATE of "
                       f"{', '.join(APPEND_ONLY_TABLES)}")
        # issue 14: a fresh database starts with PPAFLOW_RULES_DIR's set active
        loaded, current = rule_sets.keep_loaded(runtimes().loaded.rules)
        if current.hash == loaded.hash:
            click.echo(f"active rule set {loaded.hash} ({app.config['PPAFLOW_RULES_DIR'] or 'rules/default'})")
        else:
            click.echo(f"rule set {loaded.hash} of PPAFLOW_RULES_DIR stored; the active set remains {current.hash} "
                       f"(ppaflow rules activate changes it)")


@main.command()
@click.option("--examples", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="folder with organizations.json, users.json, ppas.json (default: examples/)")
@click.option("--tokens/--no-tokens", default=True,
              help="print an API token and a password for each example user")
@click.option("--credentials", type=click.Path(dir_okay=False, path_type=Path),
              help="where the example users' tokens and passwords are kept between runs, readable by you only "
                   "(default: instance/example-credentials.json)")
@fail_on_domain_errors
def seed(directory: Path | None, tokens: bool, credentials: Path | None) -> None:
    """Load the example organizations, users and PPAs (once, all or
    nothing), and print each example user's API token and password: the
    same ones as last time while they still work."""
    with app_context() as app:
        loaded = load_examples(directory)
        click.echo(f"examples: {len(loaded.new_users)} new users, {len(loaded.new_ppas)} new PPAs "
                   f"({len(loaded.ppa_ids)} example PPAs in the database)")
        if tokens:
            path = credentials or Path(app.instance_path) / CREDENTIALS_FILE
            rows = []
            for credential in example_credentials(loaded.users, path):
                user = users.get_user_or_raise(credential.username)
                rows.append((user.username, ", ".join(sorted(user.roles)),
                             user.organization.code if user.organization else "",
                             credential.token or "(deactivated)", credential.password or "(changed)"))
            click.echo(table(("user", "roles", "org", "API token", "password"), rows))
            click.echo(f"(kept in {path}, readable by you only)")


def read_password(from_stdin: bool) -> str:
    """A new password: the first line of standard input, or typed twice at
    a prompt that does not echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standard input holds no password")
        return password
    return click.prompt("New password", hide_input=True, confirmation_prompt="Repeat the password")


@main.group()
def org() -> None:
    """Organizations: MOAs and oversight bodies."""


@org.command("add")
@click.argument("code")
@click.option("--name", required=True, help="the official name")
@click.option("--uacs-code", help="the 12-digit UACS organization code")
@fail_on_domain_errors
def org_add(code: str, name: str, uacs_code: str | None) -> None:
    """Register organization CODE (e.g. MSSD)."""
    with app_context():
        added = users.add_organization(Operator(), code, name, uacs_code=uacs_code)
        click.echo(f"added organization {added.code} ({added.name}"
                   f"{', UACS ' + added.uacs_code if added.uacs_code else ''})")


@org.command("set")
@click.argument("code")
@click.option("--name", help="the official name")
@click.option("--department", help="FAR No. 1 header: Department (empty clears)")
@click.option("--agency", help="FAR No. 1 header: Agency (empty clears)")
@click.option("--operating-unit", help="FAR No. 1 header: Operating Unit (empty clears)")
@click.option("--uacs-code", help="the 12-digit UACS organization code (empty clears)")
@click.option("--budget-officer", help='"NAME, POSITION" of the Budget Officer (certifies correct; empty clears)')
@click.option("--chief-accountant", help='"NAME, POSITION" of the Chief Accountant (certifies correct; empty clears)')
@click.option("--head-of-agency", help='"NAME, POSITION" of the Head of Agency (approves; empty clears)')
@fail_on_domain_errors
def org_set(code: str, name: str | None, department: str | None, agency: str | None, operating_unit: str | None,
            uacs_code: str | None, budget_officer: str | None, chief_accountant: str | None,
            head_of_agency: str | None) -> None:
    """Set organization CODE's FAR No. 1 header block and signatories
    (docs/design.md §8); a signatory is "NAME, POSITION", split at the first comma."""
    changes: dict = {key: value for key, value in (
        ("name", name), ("department", department), ("agency", agency), ("operating_unit", operating_unit),
        ("uacs_code", uacs_code)) if value is not None}
    for role, text in (("budget_officer", budget_officer), ("chief_accountant", chief_accountant),
                       ("head_of_agency", head_of_agency)):
        if text is not None:
            person, position = users.parse_signatory(text)
            changes[role] = {"name": person, "position": position}
    if not changes:
        raise click.UsageError("nothing to change: give --name, --department, --agency, --operating-unit, "
                               "--uacs-code, --budget-officer, --chief-accountant or --head-of-agency")
    with app_context():
        changed = users.update_organization(Operator(), users.get_organization_id_or_raise(code), changes)
        click.echo(f"organization {changed.code}: {', '.join(sorted(changes))} set")
        for role in changed.SIGNATORIES:
            person, position = changed.signatory(role)
            click.echo(f"  {role.replace('_', ' ')}: {person + ', ' + position if person else '(not set)'}")


@org.command("list")
def org_list() -> None:
    """Every organization, by code."""
    with app_context():
        rows = [(o.code, o.name, o.uacs_code or "") for o in db.session.scalars(users.list_organizations(Operator()))]
        click.echo(table(("code", "name", "UACS code"), rows))


@main.group()
def user() -> None:
    """Users, their roles and passwords."""


@user.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="a role of the rule set's roles.yaml (repeatable)")
@click.option("--org", "organization", help="organization code, e.g. MSSD (required for moa_focal)")
@click.option("--full-name", default="", help="the person's name")
@click.option("--email", help="the person's e-mail address")
@click.option("--password-stdin", is_flag=True, help="also set a password, read from the first line of standard input")
@fail_on_domain_errors
def user_add(name: str, roles: tuple[str, ...], organization: str | None, full_name: str, email: str | None,
             password_stdin: bool) -> None:
    """Create user NAME and print a new API token (the last line of output)."""
    password = read_password(True) if password_stdin else None
    with app_context():
        created, token = users.add_user(name, roles, organization=organization, full_name=full_name, email=email,
                                        password=password)
        click.echo(f"created user {created.username} ({', '.join(sorted(created.roles))}"
                   f"{', ' + created.organization.code if created.organization else ''}"
                   f"{', with a password' if password else ''})")
        click.echo(token)


@user.command("list")
@click.option("--role", help="only users holding this role")
@click.option("--org", "organization", help="only users of this organization (code)")
@click.option("--active/--inactive", default=None, help="only active, or only deactivated, users")
def user_list(role: str | None, organization: str | None, active: bool | None) -> None:
    """Users by name: roles, organization, active or not, password set or not."""
    with app_context():
        query = users.list_users(Operator(), users.UserFilters(role=role, organization=organization, active=active))
        rows = [(u.username, u.full_name, ", ".join(sorted(u.roles)), u.organization.code if u.organization else "",
                 "yes" if u.is_active else "no", "yes" if u.has_password else "no")
                for u in db.session.scalars(query)]
        click.echo(table(("user", "name", "roles", "org", "active", "password"), rows))


@user.command("set")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="the user's roles from now on (repeatable; replaces them all)")
@click.option("--org", "organization", help="move the user to this organization (code)")
@click.option("--no-org", is_flag=True, help="take the user out of their organization")
@click.option("--active/--inactive", default=None, help="reactivate, or deactivate (their tokens stop working)")
@click.option("--full-name", help="the person's name")
@click.option("--email", help="the person's e-mail address")
@fail_on_domain_errors
def user_set(name: str, roles: tuple[str, ...], organization: str | None, no_org: bool, active: bool | None,
             full_name: str | None, email: str | None) -> None:
    """Change user NAME's roles, organization, activity, name or e-mail."""
    if organization and no_org:
        raise click.UsageError("--org and --no-org contradict each other")
    changes = {key: value for key, value in (("roles", list(roles) or None), ("active", active),
                                             ("full_name", full_name), ("email", email)) if value is not None}
    if organization or no_org:
        changes["organization"] = organization
    if not changes:
        raise click.UsageError("nothing to change: give --role, --org, --no-org, --active, --inactive, "
                               "--full-name or --email")
    with app_context():
        target = users.get_user_or_raise(name)
        changed = users.update_user(Operator(), target.id, changes)
        click.echo(f"user {changed.username}: {', '.join(sorted(changed.roles))}; "
                   f"organization {changed.organization.code if changed.organization else '(none)'}; "
                   f"{'active' if changed.is_active else 'deactivated'}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
@fail_on_domain_errors
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set user NAME's password (typed twice, or from standard input)."""
    with app_context():
        users.get_user_or_raise(name)
        password = read_password(password_stdin)
        changed = users.set_password(name, password)
        click.echo(f"password of {changed.username} set")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("issue")
@click.argument("name")
@click.option("--label", default="", help="what the token is for")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="lifetime in days (default: no expiry)")
@fail_on_domain_errors
def token_issue(name: str, label: str, expires_in_days: int | None) -> None:
    """Issue another API token for user NAME (printed as the last line)."""
    with app_context():
        expires = timedelta(days=expires_in_days) if expires_in_days else None
        click.echo(users.issue_token(name, name=label, expires_in=expires))


@token.command("list")
@click.argument("name")
@fail_on_domain_errors
def token_list(name: str) -> None:
    """The API tokens of user NAME (prefix, label, state); never the tokens."""
    with app_context():
        rows = [(t.prefix + "...", t.name, t.created_at.strftime("%Y-%m-%d %H:%M"),
                 t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "never",
                 "revoked" if t.revoked_at else "live") for t in users.tokens_of(name)]
        click.echo(table(("token", "label", "created", "expires", "state"), rows))


@token.command("revoke")
@click.argument("name")
@click.option("--prefix", help="only the token starting with this (as shown by 'token list')")
@click.option("--label", help="only the tokens with this label")
@fail_on_domain_errors
def token_revoke(name: str, prefix: str | None, label: str | None) -> None:
    """Revoke user NAME's live tokens (all, or those matching --prefix/--label)."""
    with app_context():
        count = users.revoke_tokens(name, prefix=prefix.removesuffix("...") if prefix is not None else None,
                                    label=label)
        click.echo(f"revoked {count} token(s) of {name}")


@token.command("rotate")
@click.argument("name")
@click.option("--label", help="replace only the tokens with this label (default: every live token)")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="lifetime of the new token")
@fail_on_domain_errors
def token_rotate(name: str, label: str | None, expires_in_days: int | None) -> None:
    """Revoke user NAME's live tokens (or those with --label) and issue one
    new token (the last line)."""
    with app_context():
        expires = timedelta(days=expires_in_days) if expires_in_days else None
        click.echo(users.rotate_token(name, label=label, expires_in=expires))


@main.group()
def ppa() -> None:
    """PPAs from the command line."""


@ppa.command("transition")
@click.argument("ppa_id", type=int)
@click.argument("trigger")
@click.option("--as", "username", required=True, help="the user acting (roles and separation of duties apply)")
@click.option("--comment", help="comment for the history (required by reject and return_for_revision)")
@fail_on_domain_errors
def ppa_transition(ppa_id: int, trigger: str, username: str, comment: str | None) -> None:
    """Fire TRIGGER on PPA PPA_ID as a user, with the API's rules."""
    with app_context():
        actor = users.get_active_user_or_raise(username)
        context = AuditContext(actor_id=actor.id, actor=actor.username, request_id=f"cli:{uuid.uuid4().hex}")
        with audit_context(context):
            moved = approvals.fire_transition(actor, ppa_id, trigger, comment=comment)
            click.echo(f"PPA {moved.id} is now in {moved.approval_status}")


@main.group()
def wbs() -> None:
    """Work-breakdown structures: checking their stored rollups."""


@wbs.command("verify")
@click.argument("ppa_id", type=int, required=False)
@click.option("--repair", is_flag=True, help="write the recomputed figures where they drifted (as the nightly job does)")
def wbs_verify(ppa_id: int | None, repair: bool) -> None:
    """Recompute every WBS (or PPA_ID's) from scratch and compare it with its
    stored rollups (docs/design.md §4, "Stored rollups"). Exits 1 when drift
    is found and not repaired."""
    with app_context(), audit_context(AuditContext(actor="cli:wbs-verify", request_id=f"cli:{uuid.uuid4().hex}")):
        def progress(done: int, total: int) -> None:
            if done == total or done % 100 == 0:
                click.echo(f"  checked {done}/{total} trees", err=True)

        found = sweeps.verify_rollups(ppa_id, repair=repair, progress=progress)
        if found["drift"]:
            click.echo(table(("PPA", "items drifted", "statuses owed", "rules"), [
                (row["ppa_id"], row["items"], row["statuses"], "current" if row["current"] else "other rules")
                for row in found["drift"]], align="rrrl"))
        click.echo(f"{found['trees']} tree(s) checked: {found['drifted']} drifted, {found['repaired']} repaired, "
                   f"{found['errors']} could not be loaded")
        if found["errors"] or (found["drifted"] and not repair):
            sys.exit(1)


@main.group()
def privacy() -> None:
    """Personal data of community needs (Data Privacy Act, RA 10173; issue 15 item 7)."""


def print_outcome(done, verb: str) -> None:
    """One line per kind of row an erasure or purge detached (or would)."""
    for what, count in sorted(done.counts.items()):
        click.echo(f"  {what}: {count} {'would be ' if done.dry_run else ''}{verb}")
    if done.dry_run:
        click.echo("dry run: nothing written")


@privacy.command("erase")
@click.option("--user", "username", required=True, help="the person whose needs and votes are detached from them")
@click.option("--as", "admin", required=True, help="the administrator acting on the request (recorded in the audit)")
@click.option("--dry-run", is_flag=True, help="count what would change; write nothing")
@fail_on_domain_errors
def privacy_erase(username: str, admin: str, dry_run: bool) -> None:
    """Erase a person's personal data on their request, in one transaction:
    their needs lose who raised them, their votes lose their voter (the
    needs' vote counts stay), and one audit row records the erasure and its
    counts, without the person's data."""
    with app_context():
        actor = users.get_active_user_or_raise(admin)
        context = AuditContext(actor_id=actor.id, actor=actor.username, request_id=f"cli:{uuid.uuid4().hex}")
        with audit_context(context):
            done = privacy_service.erase(actor, username, dry_run=dry_run)
        click.echo(f"{'would erase' if dry_run else 'erased'} the personal data of {username}:")
        print_outcome(done, "detached")


@privacy.command("purge")
@click.option("--as", "admin", help="the administrator running it (recorded; default: the operator, for a schedule)")
@click.option("--dry-run", is_flag=True, help="count what would change; write nothing")
@fail_on_domain_errors
def privacy_purge(admin: str | None, dry_run: bool) -> None:
    """Detach needs and votes older than the retention period of needs.yaml
    (privacy.retention_years) from the people who raised or cast them; the
    needs and their counts stay. Safe to run nightly."""
    with app_context():
        actor = users.get_active_user_or_raise(admin) if admin else None
        context = (AuditContext(actor_id=actor.id, actor=actor.username, request_id=f"cli:{uuid.uuid4().hex}")
                   if actor else AuditContext(actor="operator", request_id=f"cli:{uuid.uuid4().hex}"))
        with audit_context(context):
            done = privacy_service.purge(actor, dry_run=dry_run)
        click.echo(f"retention {get_runtime().rules.needs.privacy.retention_years} years: personal data from "
                   f"before {done.cutoff.isoformat()}")
        print_outcome(done, "detached")


@main.group()
def delegation() -> None:
    """Delegations: a role lent to a colleague until a given time."""


def moment(value: str, *, end_of_day: bool) -> datetime:
    """A time given on the command line: an ISO date (the start of that day,
    or with ``end_of_day`` the end of it) or date and time, read in the
    schedule's time zone unless it names its offset."""
    zone = ZoneInfo(get_runtime().rules.schedule.timezone)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end_of_day else 0)
            return datetime.combine(day, time(), zone)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (2025-06-14) or a date and time (2025-06-14T17:00)"
                                 ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


@delegation.command("add")
@click.argument("role")
@click.option("--from", "delegator", required=True, help="the user who lends the role")
@click.option("--to", "delegate", required=True, help="the colleague who may act in it")
@click.option("--until", required=True, help="last day (2025-06-14: through that day) or a date and time")
@click.option("--starts", help="first day or a date and time (default: now)")
@click.option("--reason", required=True, help="why, e.g. 'on leave until 14 June'")
@fail_on_domain_errors
def delegation_add(role: str, delegator: str, delegate: str, until: str, starts: str | None, reason: str) -> None:
    """Lend ROLE of one user to a colleague (times in the schedule's time zone)."""
    with app_context():
        with audit_context(AuditContext(actor="operator", request_id=f"cli:{uuid.uuid4().hex}")):
            fields = {"role": role, "delegator": delegator, "delegate": delegate, "reason": reason,
                      "expires_at": moment(until, end_of_day=True)}
            if starts:
                fields["starts_at"] = moment(starts, end_of_day=False)
            added = delegations.create_delegation(Operator(), fields)
            click.echo(f"delegation {added.id}: {added.delegator.username} lends {added.role} to "
                       f"{added.delegate.username} from {delegations.when(added.starts_at)} until "
                       f"{delegations.when(added.expires_at)}")


@delegation.command("list")
@click.option("--user", help="only those this user gave or received")
@click.option("--role", help="only those of this role")
@click.option("--active/--inactive", default=None, help="only those active now, or only the others")
def delegation_list(user: str | None, role: str | None, active: bool | None) -> None:
    """Delegations, newest first: who lends which role to whom, when, why, and their state now."""
    with app_context():
        query = delegations.list_delegations(Operator(), delegations.DelegationFilters(user, role, active))
        now = utcnow()
        rows = [(d.id, d.role, d.delegator.username, d.delegate.username, delegations.when(d.starts_at),
                 delegations.when(d.expires_at), d.state_at(now), d.reason) for d in db.session.scalars(query)]
        click.echo(table(("id", "role", "from", "to", "starts", "expires", "state", "reason"), rows))


@delegation.command("revoke")
@click.argument("delegation_id", type=int)
@fail_on_domain_errors
def delegation_revoke(delegation_id: int) -> None:
    """End delegation DELEGATION_ID now."""
    with app_context():
        with audit_context(AuditContext(actor="operator", request_id=f"cli:{uuid.uuid4().hex}")):
            revoked = delegations.revoke_delegation(Operator(), delegation_id)
            click.echo(f"delegation {revoked.id} revoked: {revoked.delegate.username} no longer acts as "
                       f"{revoked.role} for {revoked.delegator.username}")


@main.group()
def rules() -> None:
    """Rule files."""


@rules.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def rules_check(directory: Path | None) -> None:
    """Validate the rule files in DIRECTORY (default: the rules in force).

    Prints every error as file:line: message and exits 1, or prints a
    summary and the rule-set hash and exits 0.
    """
    directory = directory or Path(os.environ.get("PPAFLOW_RULES_DIR") or DEFAULT_RULES_DIR)
    try:
        loaded = load_rules(directory, known_effects=known_effects(), known_jobs=known_jobs(),
                            required_workflows=required_workflows())
    except RulesError as exc:
        for line in exc.errors:
            click.echo(line)
        click.echo(f"{len(exc.errors)} error(s); the rule set would not load")
        sys.exit(1)
    click.echo(f"rules in {directory}: OK")
    click.echo(f"  roles: {len(loaded.roles)} ({', '.join(loaded.roles)})")
    for workflow in loaded.workflows.values():
        click.echo(f"  workflow {workflow.name} ({workflow.file}): {len(workflow.machine.states)} stages, "
                   f"{len(workflow.machine.transitions)} transitions, "
                   f"{len(workflow.separation_of_duties)} separation-of-duties rules")
    click.echo(f"  work item status: {len(loaded.work_item_status.states)} statuses, "
               f"{len(loaded.work_item_status.transitions)} transitions")
    years = loaded.validity.years
    click.echo(f"  validity: {len(years)} fiscal years ({', '.join(f'FY{y}' for y in sorted(years))}), "
               f"{sum(len(entries) - 1 for entries in years.values())} amendments")
    covered = sorted(loaded.calendar.years)
    click.echo(f"  calendar: {', '.join(str(y) for y in covered) or 'no years'} "
               f"({sum(len(days) for days in loaded.calendar.years.values())} non-working days)")
    for rule_file in loaded.files:
        click.echo(f"  {rule_file.name}  sha256 {rule_file.sha256[:16]}")
    for warning in calendar_warnings(loaded, directory) + list(loaded.warnings):
        click.echo(f"warning: {warning}")
    click.echo(f"rule-set hash {loaded.hash}")


def calendar_warnings(loaded, directory: Path) -> list[str]:
    """A warning for this year and the next (in the schedule's time zone)
    when the rule set has no calendar file for it: business days in that
    year skip weekends only (docs/design.md §7)."""
    this_year = datetime.now(ZoneInfo(loaded.schedule.timezone)).year
    return [f"{directory / 'calendar' / f'{year}.yaml'}:1: no calendar file for {year}: business days in {year} "
            "skip weekends only (add the year's non-working days)"
            for year in loaded.calendar.missing([this_year, this_year + 1])]


# -- diagrams of a rule set (issue 14 item 5; docs/design.md §6 "Diagrams") --------------------------------------


@rules.command("diagram")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "bpmn"]), default="mermaid", show_default=True,
              help="mermaid: a stateDiagram-v2; bpmn: BPMN 2.0 XML of a workflow with people on its edges.")
@click.option("--workflow", default=None,
              help="a workflow of workflows/*.yaml, or work_item_status (mermaid only); default ppa_approval.")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def rules_diagram(fmt: str, workflow: str | None, directory: Path | None) -> None:
    """Print a diagram of the rule files in DIRECTORY (default: the
    database's active rule set, the one in force): the mermaid state diagram
    of a machine (roles on its edges, final stages marked) or the BPMN 2.0
    XML of a workflow. Exits 1 with the errors when the rule set is broken
    or the workflow unknown.
    """
    try:
        if directory is None:  # the database's active set, as the API's diagram
            with app_context():
                loaded = get_runtime().rules
        else:
            loaded = load_rules(directory, known_effects=known_effects(), known_jobs=known_jobs(),
                                required_workflows=required_workflows())
        text, _ = diagrams.render(loaded, fmt, workflow)
    except RulesError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        sys.exit(1)
    except PpaflowError as exc:
        click.echo(f"ppaflow: {exc.detail}", err=True)
        sys.exit(1)
    click.echo(text, nl=False)
# -- rule sets are versions (issue 14 items 1 and 3, docs/design.md §13) --

def rule_set_from(reference: str | Path):
    """A rule set named on the command line: a folder (loaded and
    validated) or the hash, or a unique start of it, of a stored set.
    Broken files print every error and exit 1."""
    path = Path(reference)
    try:
        if path.is_dir():
            return rule_sets.load_directory(path), str(path)
        stored = rule_sets.find(str(reference))
        return rule_sets.load_stored(stored), f"stored rule set {stored.hash[:12]}"
    except RulesError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        click.echo(f"ppaflow: {len(exc.errors)} error(s) in {reference}; the rule set would not load", err=True)
        sys.exit(1)


def print_diff(old, new, old_name: str, new_name: str) -> None:
    """``rules.diff``: one summary line, then every stage, transition, role,
    template and non-working day removed (-) and added (+)."""
    change = diff_rule_sets(old, new)
    click.echo(f"from {old_name} ({old.hash[:12]}) to {new_name} ({new.hash[:12]}): "
               + ("no stage, transition, role, template or non-working day added or removed" if change.empty
                  else change.summary()))
    for line in change.lines():
        click.echo(line)


def mapping_from(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--map OLD=NEW`` options as a dict, or a clean exit 1 naming the bad one."""
    try:
        return parse_mapping(pairs)
    except ValueError as exc:
        click.echo(f"ppaflow: {exc}", err=True)
        sys.exit(1)


MAP_HELP = "OLD=NEW: PPAs in stage OLD go to stage NEW of the new set (repeatable)"


@rules.command("activate")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--as", "username", help="the user activating it (recorded; default: the operator, no user)")
@click.option("--map", "pairs", multiple=True, metavar="OLD=NEW", help=MAP_HELP + "; drafts only")
@fail_on_domain_errors
def rules_activate(directory: Path | None, username: str | None, pairs: tuple[str, ...]) -> None:
    """Validate the rule set in DIRECTORY (default: PPAFLOW_RULES_DIR), show
    what it changes from the active set, store it and make it the active
    set. Activating the active set again changes nothing. Refused while a
    draft sits in a stage the new set lacks, unless --map moves it (then
    --as an administrator signs the move)."""
    with app_context() as app:
        directory = directory or rule_sets.rules_dir(app.config["PPAFLOW_RULES_DIR"])
        new, name = rule_set_from(directory)
        mapping = mapping_from(pairs)
        actor = users.get_active_user_or_raise(username) if username else None
        current = rule_sets.active()
        if current is not None and current.hash != new.hash:
            print_diff(rule_sets.load_stored(current), new, "the active set", name)
        for warning in calendar_warnings(new, Path(directory)) + list(new.warnings):
            click.echo(f"warning: {warning}")
        context = AuditContext(actor_id=actor.id if actor else None, actor=actor.username if actor else "operator",
                               request_id=f"cli:{uuid.uuid4().hex}")
        with audit_context(context):
            done = rule_sets.activate(new, actor.id if actor else None, mapping)
        if not done.changed:
            click.echo(f"rule set {new.hash} is already active; nothing changed")
            return
        click.echo(f"activated rule set {new.hash} from {name} ({'stored now' if done.stored else 'stored before'}"
                   f"{', by ' + actor.username if actor else ''})")
        if done.moved:
            click.echo(f"moved {done.moved} draft(s) to their mapped stage (recorded in their history)")


@rules.command("migrate")
@click.option("--to", "to", required=True, metavar="HASH", help="the stored rule set to move to (hash or its start)")
@click.option("--plan", "mode", flag_value="plan", default=True, help="list what would change; write nothing (default)")
@click.option("--apply", "mode", flag_value="apply", help="move them, in one transaction")
@click.option("--map", "pairs", multiple=True, metavar="OLD=NEW", help=MAP_HELP)
@click.option("--as", "username", help="the administrator signing the moves (required with --apply)")
@fail_on_domain_errors
def rules_migrate(to: str, mode: str, pairs: tuple[str, ...], username: str | None) -> None:
    """Move the PPAs pinned to other rule sets (submitted, not finished) to
    the stored set TO. --plan lists every one whose stage or next step would
    change and is refused while one sits in a stage TO lacks unmapped;
    --apply moves them all and re-pins them, a history row each."""
    with app_context():
        mapping = mapping_from(pairs)
        if mode == "apply":
            if not username:
                click.echo("ppaflow: --apply needs --as USER, the administrator the history names", err=True)
                sys.exit(1)
            actor = users.get_active_user_or_raise(username)
            context = AuditContext(actor_id=actor.id, actor=actor.username, request_id=f"cli:{uuid.uuid4().hex}")
            with audit_context(context):
                done = rule_migrations.apply(actor, to, mapping)
            click.echo(f"migrated {len(done.moves)} PPA(s) to rule set {done.new_hash}")
            return
        target, migration = rule_migrations.plan(to, mapping)
        for move in migration.changing:
            click.echo(f"PPA {move.record_id}: rules {move.old_hash[:12]} -> {target.hash[:12]}, stage {move.stage}"
                       + (f" -> {move.new_stage}" if move.stage_changes else " (kept)"))
            for step in sorted(move.steps_before - move.steps_after):
                click.echo(f"  - next step {step}")
            for step in sorted(move.steps_after - move.steps_before):
                click.echo(f"  + next step {step}")
        rule_migrations.refuse(migration)
        unchanged = len(migration.moves) - len(migration.changing)
        click.echo(f"plan: {len(migration.moves)} PPA(s) move to rule set {target.hash}: "
                   f"{len(migration.changing)} change stage or next step, {unchanged} do not; nothing written "
                   "(--apply moves them)")


@rules.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@fail_on_domain_errors
def rules_diff(old: str | None, new: str | None) -> None:
    """The stages, transitions, roles, WBS templates and non-working days
    NEW adds to and removes from OLD. Each is a folder or the hash (or its first
    characters) of a stored set; OLD defaults to the active set, NEW to
    PPAFLOW_RULES_DIR."""
    with app_context() as app:
        if old is None:
            current = rule_sets.active()
            if current is None:
                click.echo("ppaflow: no rule set is active yet (run ppaflow init-db)", err=True)
                sys.exit(1)
            old_rules, old_name = rule_sets.load_stored(current), "the active set"
        else:
            old_rules, old_name = rule_set_from(old)
        new_rules, new_name = rule_set_from(new or rule_sets.rules_dir(app.config["PPAFLOW_RULES_DIR"]))
        print_diff(old_rules, new_rules, old_name, new_name)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(1, 64),
              help="serve with gunicorn and this many worker processes (production); without it, Flask's "
                   "development server")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="threads per gunicorn worker")
def serve(host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the API and the web app: the development server, or gunicorn
    with --workers. Without REDIS_URL, the schedule of
    rules/default/schedule.yaml runs in the serving processes (one of them
    fires each entry)."""
    with app_context() as app:
        url = safe_url(app.config["DATABASE_URL"])
        click.echo(f"web app: sign in at http://{host}:{port}/login")
        if workers is None:
            tune_gc()
            configure_logging()
            click.echo(f"ppaflow serving on http://{host}:{port}/api (database {url})")
            if start_local_scheduler(app):
                click.echo("schedule of rules/default/schedule.yaml: in this process (no REDIS_URL)")
            app.run(host=host, port=port, threaded=True, use_reloader=False)
            return
    click.echo(f"ppaflow serving on http://{host}:{port}/api with gunicorn, {workers} workers x {threads} threads "
               f"(database {url})")
    Server(bind=f"{host}:{port}", workers=workers, threads=threads).run()


@main.command()
@click.option("--burst", is_flag=True, help="exit once the queue is empty")
@click.option("--name", help="worker name (default: host and pid)")
def worker(burst: bool, name: str | None) -> None:
    """Run an RQ worker for ppaflow's jobs on REDIS_URL (each job in a forked
    work horse that disposes inherited database connections)."""
    with app_context():
        tune_gc()
        configure_logging()
        try:
            rq_worker = build_worker(name=name)
        except RuntimeError as exc:
            click.echo(f"ppaflow: {exc}", err=True)
            sys.exit(1)
        click.echo(f"ppaflow worker {rq_worker.name} on queue {', '.join(rq_worker.queue_names())}")
        sweep_lost_jobs()
        rq_worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


def sweep_lost_jobs() -> None:
    """Dispatch again the jobs lost with a Redis restart (at worker and scheduler start)."""
    try:
        swept = redispatch_lost()
    except RedisError as exc:
        click.echo(f"ppaflow: could not look for lost jobs: Redis: {exc}", err=True)
        return
    click.echo(f"lost jobs: {swept['redispatched']} re-dispatched of {swept['waiting']} waiting")


@main.command()
@click.option("--list", "list_only", is_flag=True, help="print the schedule and the next run times, then exit")
def scheduler(list_only: bool) -> None:
    """Run the schedule of rules/default/schedule.yaml (cron read in its time zone,
    Asia/Manila): RQ's cron scheduler with REDIS_URL, else in this process
    (jobs run inline; one process at a time fires, see docs/design.md §7)."""
    with app_context() as app:
        click.echo(table(("job", "cron", "time zone", "next run"), [
            (name, cron, zone.key, moment.strftime("%Y-%m-%d %H:%M %Z")) for name, cron, zone, moment in upcoming()]))
        if list_only:
            return
        if not app.config.get("REDIS_URL"):
            click.echo("no REDIS_URL: running the schedule in this process")
            build_local_scheduler(app, blocking=True).start()
            return
        cron = build_scheduler()
        sweep_lost_jobs()
        cron.start()


@main.group()
def job() -> None:
    """Background jobs by hand."""


@job.command("enqueue")
@click.argument("kind")
@click.option("--arg", "arguments", multiple=True, metavar="KEY=VALUE", help="a job argument (repeatable)")
@fail_on_domain_errors
def job_enqueue(kind: str, arguments: tuple[str, ...]) -> None:
    """Enqueue job KIND now (run inline when REDIS_URL is unset) and print its id."""
    if kind not in KINDS:
        click.echo(f"ppaflow: unknown job {kind!r}; known: {', '.join(sorted(KINDS))}", err=True)
        sys.exit(1)
    values = dict(a.split("=", 1) for a in arguments if "=" in a)
    with app_context():
        with transaction():
            job_id = enqueue(kind, **values).id
        record = db.session.get(JobRecord, job_id)
        click.echo(f"job {job_id} ({kind}): {record.status} via {record.runner}")
        if record.result:
            click.echo(json.dumps(json.loads(record.result), indent=2))
        if record.error:
            click.echo(f"error: {record.error}")


@main.command()
@click.argument("kind", type=click.Choice(reports.REPORT_KINDS))
@click.option("--fiscal-year", type=click.IntRange(FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR), required=True)
@click.option("--moa", help="one MOA's rows only (organization code)")
@click.option("--format", "fmt", type=click.Choice(reports.REPORT_FORMATS), default="xlsx", show_default=True,
              help="an Excel workbook, or a PDF to print (Legal landscape)")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="mfbm: count only what is dated on or before this day, YYYY-MM-DD (default: today)")
@click.option("--quarter", type=click.IntRange(1, 4),
              help="a statement's quarter ending (default: the last closed quarter, else the current one)")
@click.option("--fund-cluster", help="a statement's fund cluster, e.g. 01 (default: each on its own sheet)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the file (default: its usual name in out/)")
def report(kind: str, fiscal_year: int, moa: str | None, fmt: str, as_of, quarter: int | None,
           fund_cluster: str | None, out: Path | None) -> None:
    """Write a report of a fiscal year as an Excel workbook or a PDF: the
    MFBM Budget Execution Report (mfbm); FAR No. 1, the SAAODB (far1), and
    its companions FAR No. 1-A (far1a), 1-B (far1b), 3 (far3), 4 (far4) and
    the RAOD (raod), each for a quarter ending; BED No. 1 and No. 3 (bed1,
    bed3), the year's plan (docs/design.md §8)."""
    with app_context():
        data, rows = reports.build_report(Operator(), kind, fiscal_year, moa, fmt,
                                          as_of=as_of.date() if as_of else None, quarter=quarter,
                                          fund_cluster=fund_cluster)
    out = out or Path("out") / reports.file_name(kind, fiscal_year, moa, fmt, quarter=quarter,
                                                 fund_cluster=fund_cluster)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    click.echo(f"wrote {out} ({rows} rows, {len(data):,} bytes)")


@main.command()
def demo() -> None:
    """Run the examples through the workflow on a fresh temporary database
    and print each PPA's stage and history."""
    sys.exit(run_demo(click.echo))


if __name__ == "__main__":
    main()
