"""Administration on the command line (issue 10): organizations, users,
passwords, ``--as`` a deactivated user, a seed that is all or nothing and
keeps its tokens, ``make run`` with PORT and HOST."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import db
from db.models import Organization, Ppa, User
from services import users
from tests.support import cli
from web.examples import EXAMPLES_DIR

PASSWORD = "a passphrase long enough"


def test_an_organization_is_added_and_listed(app):
    added = cli(app, "org", "add", "MOLE", "--name", "Ministry of Labor and Employment", "--uacs-code", "400010300001")
    again = cli(app, "org", "add", "mole", "--name", "Again")
    listing = cli(app, "org", "list")

    assert added.exit_code == 0, added.output
    assert again.exit_code == 1 and "organization_exists" in again.output
    assert "MOLE  Ministry of Labor and Employment  400010300001" in listing.output


def test_a_user_is_added_with_a_password_from_standard_input(app, world):
    world.org("MSSD")

    added = cli(app, "user", "add", "Amina", "--role", "moa_focal", "--org", "MSSD", "--email", "amina@example.org",
                "--password-stdin", input=PASSWORD + "\n")
    listing = cli(app, "user", "list", "--org", "MSSD")

    assert added.exit_code == 0, added.output
    assert "created user amina (moa_focal, MSSD, with a password)" in added.output
    token = added.output.strip().splitlines()[-1]
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert [line.split()[-2:] for line in listing.output.splitlines() if line.startswith("amina")] == [["yes", "yes"]]
    with app.app_context():
        assert users.verify_password(users.get_user("amina"), PASSWORD)


def test_a_moa_focal_without_an_organization_is_refused(app):
    refused = cli(app, "user", "add", "drifter", "--role", "moa_focal")

    assert refused.exit_code == 1 and "give the user an organization" in refused.output
    with app.app_context():
        assert users.get_user("drifter") is None


def test_a_look_alike_username_is_refused_on_the_command_line_too(app, world):
    world.admin  # noqa: B018

    refused = cli(app, "user", "add", "\u0430dmin", "--role", "executive")

    assert refused.exit_code == 1 and "username_confusable" in refused.output


def test_user_set_changes_roles_organization_and_activity(app, world):
    focal = world.focal
    world.org("MOH")

    moved = cli(app, "user", "set", "MSSD.Focal", "--role", "moa_focal", "--role", "technical_reviewer",
                "--org", "MOH")
    off = cli(app, "user", "set", "mssd.focal", "--inactive")
    refused = world.client.get("/api/me", headers=focal.headers)
    on = cli(app, "user", "set", "mssd.focal", "--active")
    nothing = cli(app, "user", "set", "mssd.focal")

    assert moved.exit_code == 0, moved.output
    assert "moa_focal, technical_reviewer; organization MOH; active" in moved.output
    assert off.exit_code == 0 and "deactivated" in off.output and refused.status_code == 401
    assert on.exit_code == 0 and world.client.get("/api/me", headers=focal.headers).get_json()["organization"] == "MOH"
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output


def test_passwd_asks_twice_or_reads_standard_input(app, world):
    world.focal  # noqa: B018

    typed = cli(app, "user", "passwd", "mssd.focal", input=f"{PASSWORD}\ntypo {PASSWORD}\n{PASSWORD}\n{PASSWORD}\n")
    piped = cli(app, "user", "passwd", "mssd.focal", "--password-stdin", input="another long passphrase\n")
    short = cli(app, "user", "passwd", "mssd.focal", "--password-stdin", input="short\n")

    assert typed.exit_code == 0, typed.output
    assert "do not match" in typed.output and typed.output.count("Repeat the password") == 2
    assert PASSWORD not in typed.output  # not echoed
    assert piped.exit_code == 0 and short.exit_code == 1 and "12 to 1024 characters" in short.output
    with app.app_context():
        assert users.verify_password(users.get_user("mssd.focal"), "another long passphrase")


def test_acting_as_a_deactivated_user_is_refused(app, world):
    ppa = world.create_ppa()
    cli(app, "user", "set", "mssd.focal", "--inactive")

    refused = cli(app, "ppa", "transition", str(ppa["id"]), "submit", "--as", "mssd.focal")

    assert refused.exit_code == 1 and "user_deactivated" in refused.output
    assert world.get(ppa["id"], world.admin)["approval_status"] == "draft"


def _copy_examples(tmp_path: Path) -> Path:
    directory = tmp_path / "examples"
    shutil.copytree(EXAMPLES_DIR, directory)
    return directory


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Organization, User, Ppa))


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "ppas.json").unlink(), "ppas.json: no such file"),
    (lambda d: (d / "users.json").write_text('[{"username": "x", "roles": ["admin"]},\n  oops]'),
     "users.json: line 2 column 3"),
    (lambda d: (d / "organizations.json").write_text('[{"code": "MSSD"}]'), "organizations.json[0].name"),
    (lambda d: (d / "ppas.json").write_text(json.dumps(
        json.loads((d / "ppas.json").read_text())[:1] + [{"key": "x", "author": "admin", "ppa": {"title": ""}}])),
     "ppas.json[1].ppa.title"),
])
def test_a_missing_or_broken_example_file_is_a_clear_error_and_writes_nothing(app, tmp_path, damage, message):
    directory = _copy_examples(tmp_path)
    damage(directory)

    result = cli(app, "seed", "--examples", str(directory), "--credentials", str(tmp_path / "c.json"))

    assert result.exit_code == 1 and "examples_invalid" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert _counts(app) == (0, 0, 0)


def test_a_refusal_half_way_through_the_examples_writes_nothing(app, tmp_path):
    directory = _copy_examples(tmp_path)
    entries = json.loads((directory / "ppas.json").read_text())
    entries[-1]["author"] = "nobody"  # found only when the last PPA is created
    (directory / "ppas.json").write_text(json.dumps(entries))

    result = cli(app, "seed", "--examples", str(directory), "--credentials", str(tmp_path / "c.json"))

    assert result.exit_code == 1 and "nobody" in result.output
    assert _counts(app) == (0, 0, 0)


def _credentials(output: str) -> dict[str, tuple[str, str]]:
    """user -> (token, password) from the table ``ppaflow seed`` prints."""
    rows = [line.split() for line in output.splitlines() if " ppa_" in line or "(changed)" in line]
    return {row[0]: (next(c for c in row if c.startswith("ppa_")), row[-1]) for row in rows}


def test_seed_prints_the_same_working_tokens_and_passwords_on_every_run(app, world, tmp_path):
    path = tmp_path / "instance" / "example-credentials.json"

    first = _credentials(cli(app, "seed", "--credentials", str(path)).output)
    cli(app, "user", "passwd", "oobc.focal", "--password-stdin", input="changed by the person\n")
    cli(app, "token", "revoke", "mssd.focal")
    second = _credentials(cli(app, "seed", "--credentials", str(path)).output)

    assert len(first) == 16 and first.keys() == second.keys()
    assert [u for u in first if second[u][0] != first[u][0]] == ["mssd.focal"]  # only the revoked one is new
    assert [u for u in first if second[u][1] != first[u][1]] == ["oobc.focal"]
    assert second["oobc.focal"][1] == "(changed)"  # no longer ours to print
    for username in ("mfbm.analyst", "mssd.focal"):
        token, password = second[username]
        assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        with app.app_context():
            assert users.verify_password(users.get_user(username), password)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_make_run_takes_port_and_host():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    repository = Path(__file__).resolve().parents[2]

    dry = subprocess.run(["make", "-n", "run", "PORT=5050", "HOST=0.0.0.0"], cwd=repository, capture_output=True,
                         text=True, check=True)

    assert "ppaflow serve --host 0.0.0.0 --port 5050" in dry.stdout


def test_org_set_records_the_header_block_and_signatories_as_name_and_position(app, world):
    world.org("MSSD")

    result = cli(app, "org", "set", "MSSD", "--department", "BARMM", "--agency", "Ministry of Social Services",
                 "--operating-unit", "Central Office", "--uacs-code", "400010100001",
                 "--budget-officer", "JUANA CRUZ, Budget Officer IV", "--chief-accountant", "PEDRO SANTOS, CPA, Chief",
                 "--head-of-agency", "AMINA SAMPACO, Minister")
    bad_code = cli(app, "org", "set", "MSSD", "--uacs-code", "4000")
    no_position = cli(app, "org", "set", "MSSD", "--head-of-agency", "AMINA SAMPACO")
    unknown = cli(app, "org", "set", "NOPE", "--agency", "x")
    nothing = cli(app, "org", "set", "MSSD")

    assert result.exit_code == 0, result.output
    assert "budget officer: JUANA CRUZ, Budget Officer IV" in result.output
    with app.app_context():
        mssd = users.get_organization("MSSD")
        assert (mssd.department, mssd.agency, mssd.operating_unit, mssd.uacs_code) == (
            "BARMM", "Ministry of Social Services", "Central Office", "400010100001")
        assert mssd.signatory("chief_accountant") == ("PEDRO SANTOS", "CPA, Chief")  # split at the first comma
        assert mssd.signatory("head_of_agency") == ("AMINA SAMPACO", "Minister")
    assert bad_code.exit_code == 1 and "uacs_code" in bad_code.output and "12 digits" in bad_code.output
    assert no_position.exit_code == 1 and "head_of_agency.position" in no_position.output
    assert unknown.exit_code == 1 and "NOPE" in unknown.output
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
