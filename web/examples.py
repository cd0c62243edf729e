"""Load the example organizations, users and PPAs of ``examples/`` (the
PPAs named in the seeds and a handful more), once: what exists is kept.

PPAs go through the same schema and service as ``POST
/api/monitoring-entries``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from services import ppas, users
from web.schemas import PpaWriteSchema

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


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


def _read(directory: Path, name: str) -> list[dict]:
    return json.loads((directory / name).read_text(encoding="utf-8"))


def load_examples(directory: Path | None = None) -> Loaded:
    """Create the example organizations, users and PPAs that do not exist yet.

    Needs an app context with a migrated database.
    """
    directory = directory or examples_dir()
    loaded = Loaded()
    for org in _read(directory, "organizations.json"):
        users.ensure_organization(org["code"], org["name"])
    for spec in _read(directory, "users.json"):
        loaded.users.append(spec["username"])
        if users.get_user(spec["username"]) is None:
            users.add_user(spec["username"], spec["roles"], organization=spec.get("organization"),
                           full_name=spec.get("full_name", ""))
            loaded.new_users.append(spec["username"])
    schema = PpaWriteSchema()
    for spec in _read(directory, "ppas.json"):
        fields = schema.load(spec["ppa"])
        organization = users.get_organization_or_raise(fields["implementing_moa"])
        existing = ppas.find_ppa(organization.id, fields["fiscal_year"], fields["title"])
        if existing is None:
            existing = ppas.create_ppa(users.get_user_or_raise(spec["author"]), fields)
            loaded.new_ppas.append(spec["key"])
        loaded.ppa_ids[spec["key"]] = existing.id
    return loaded
