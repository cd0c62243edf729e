"""Load the example organizations, users and PPAs of ``examples/`` (the
PPAs named in the seeds and a handful more), once: what exists is kept.

All three files are read and checked before anything is written, and then
everything is written in one transaction: a missing or broken file, or a
refusal half-way, leaves the database as it was (issue 10).

PPAs go through the same schema and service as ``POST
/api/monitoring-entries``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from services import ppas, users
from services.unit_of_work import transaction
from web.errors import flatten_messages
from web.schemas import PpaWriteSchema
from workflow.errors import ValidationFailed

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
FILES = ("organizations.json", "users.json", "ppas.json")

#: Members each entry of a file must have, and their types.
REQUIRED = {
    "organizations.json": {"code": str, "name": str},
    "users.json": {"username": str, "roles": list},
    "ppas.json": {"key": str, "author": str, "ppa": dict},
}


class ExamplesInvalid(ValidationFailed):
    """An example file is missing or broken; ``errors`` is keyed by
    ``file`` or ``file[index].member``."""

    code = "examples_invalid"
    title = "Example files invalid"


def examples_dir() -> Path:
    """``PPAFLOW_EXAMPLES_DIR`` if set, else the repository's ``examples/``."""
    return Path(os.environ.get("PPAFLOW_EXAMPLES_DIR") or EXAMPLES_DIR)


@dataclass
class Loaded:
    """What ``load_examples`` did.

    Attributes:
        users: every example username, in file order.
        new_users: the ones created now.
        ppa_ids: example key -> PPA id (new or existing).
        new_ppas: keys of the PPAs created now.
    """

    users: list[str] = field(default_factory=list)
    new_users: list[str] = field(default_factory=list)
    ppa_ids: dict[str, int] = field(default_factory=dict)
    new_ppas: list[str] = field(default_factory=list)


def read_examples(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """The three example files, read and checked, before anything is written.

    Returns:
        ``{file name: entries}``; each PPA entry's ``ppa`` is loaded through
        ``PpaWriteSchema`` (typed values).

    Raises:
        ExamplesInvalid: every missing file, JSON syntax error (with line and
            column), entry that is not an object, member missing or of the
            wrong type, and PPA the API would refuse.
    """
    errors: dict[str, list[str]] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for name in FILES:
        path = directory / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            errors[str(path)] = ["no such file"]
            continue
        except (OSError, UnicodeDecodeError) as exc:
            errors[str(path)] = [f"cannot be read: {exc}"]
            continue
        except json.JSONDecodeError as exc:
            errors[str(path)] = [f"line {exc.lineno} column {exc.colno}: {exc.msg}"]
            continue
        if not isinstance(data, list):
            errors[str(path)] = ["must be a JSON array of objects"]
            continue
        for index, entry in enumerate(data):
            where = f"{path}[{index}]"
            if not isinstance(entry, dict):
                errors[where] = ["must be an object"]
                continue
            for member, kind in REQUIRED[name].items():
                if not isinstance(entry.get(member), kind):
                    errors[f"{where}.{member}"] = [f"required, a JSON {'string' if kind is str else kind.__name__}"]
        out[name] = data
    schema = PpaWriteSchema()
    for index, entry in enumerate(out.get("ppas.json", [])):
        if isinstance(entry, dict) and isinstance(entry.get("ppa"), dict):
            try:
                entry["fields"] = schema.load(entry["ppa"])
            except ValidationError as exc:
                for member, messages in flatten_messages(exc.messages).items():
                    errors[f"{directory / 'ppas.json'}[{index}].ppa.{member}"] = messages
    if errors:
        raise ExamplesInvalid(errors)
    return out


def load_examples(directory: Path | None = None) -> Loaded:
    """Create the example organizations, users and PPAs that do not exist
    yet, in one transaction (all or nothing).

    Needs an app context with a migrated database.

    Raises:
        ExamplesInvalid: see ``read_examples``; nothing was written.
        ValidationFailed, Conflict, Forbidden: an entry the services refuse
            (an unknown organization, say); nothing was written.
    """
    examples = read_examples(directory or examples_dir())
    loaded = Loaded()
    with transaction() as session:
        for org in examples["organizations.json"]:
            users.ensure_organization(org["code"], org["name"])
        for spec in examples["users.json"]:
            loaded.users.append(users.canonical_username(spec["username"]))
            if users.get_user(spec["username"]) is None:
                users.add_user(spec["username"], spec["roles"], organization=spec.get("organization"),
                               full_name=spec.get("full_name", ""), with_token=False)
                loaded.new_users.append(loaded.users[-1])
        for spec in examples["ppas.json"]:
            fields = spec["fields"]
            organization = users.get_organization_or_raise(fields["implementing_moa"])
            existing = ppas.find_ppa(organization.id, fields["fiscal_year"], fields["title"])
            if existing is None:
                existing = ppas.create_ppa(users.get_user_or_raise(spec["author"]), fields)
                session.flush()  # its id, inside the one transaction
                loaded.new_ppas.append(spec["key"])
            loaded.ppa_ids[spec["key"]] = existing.id
    return loaded


# -- the example users' credentials, kept across runs (make run) ---------------------------------------------

CREDENTIALS_FILE = "example-credentials.json"
"""Under the instance folder: the example users' tokens and passwords, mode 0600."""


@dataclass
class Credential:
    """What ``ppaflow seed`` prints for one example user.

    Attributes:
        token: a live API token, or ``None`` for a deactivated user.
        password: the example password, or ``None`` when someone has changed
            it (or the user is deactivated).
    """

    username: str
    token: str | None
    password: str | None


def example_credentials(usernames: list[str], path: Path) -> list[Credential]:
    """A live token and a password for each example user, the same on every
    run: what ``path`` keeps is printed again while it still works; a user
    without a working token gets a new one, a user without a password gets a
    generated one. ``path`` is rewritten (mode 0600) with what was printed
    and the password's hash: while the hash is the same, the password is
    too, without an argon2 check per user.
    """
    kept = _read_credentials(path)
    out, keep = [], {}
    for username in usernames:
        user = users.get_user_or_raise(username)
        previous = kept.get(username, {})
        token, password = previous.get("token"), previous.get("password")
        if not user.is_active:
            out.append(Credential(username, None, None))
            continue
        if not (isinstance(token, str) and getattr(users.token_user(token)[0], "id", None) == user.id):
            token = users.issue_token(username, name="examples")
        if user.password_hash is None:
            password = secrets.token_urlsafe(12)
            user = users.set_password(username, password)
        elif previous.get("password_hash") != user.password_hash and not (
                isinstance(password, str) and users.verify_password(user, password)):
            password = None  # someone changed it: no longer ours to print
        out.append(Credential(username, token, password))
        keep[username] = {"token": token, "password": password, "password_hash": user.password_hash}
    _write_credentials(path, keep)
    return out


def _read_credentials(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def _write_credentials(path: Path, data: dict[str, dict[str, Any]]) -> None:
    """Write ``path`` readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
