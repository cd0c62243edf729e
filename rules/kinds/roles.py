"""``roles.yaml``: the one roles vocabulary of a rule set (docs/design.md §6).

Every workflow names its roles from this list; a user holds some of them.
"""

from __future__ import annotations

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import Role, RoleRules, frozen_map
from rules.reading import FileReader, Item


def read_roles(r: FileReader, doc: Item, _context: LoadContext) -> RoleRules | None:
    """Each role: a description, and whether it is organization-scoped and
    a superuser. At least one role; a role may not be both scoped and a
    superuser (a superuser acts everywhere)."""
    f = r.fields(doc, "roles.yaml", required=["roles"])
    if f is None or "roles" not in f:
        return None
    roles: dict[str, Role] = {}
    ok = True
    for key, value, key_line in r.mapping(f["roles"], "roles"):
        name = r.name(Item(key, key_line), "role name")
        rf = r.fields(value, f"role {key}", required=["description"], optional=["organization_scoped", "superuser"])
        if name is None or rf is None:
            ok = False
            continue
        description = r.text(rf["description"], f"role {name}.description") if "description" in rf else None
        scoped = r.boolean(rf["organization_scoped"], f"role {name}.organization_scoped") \
            if "organization_scoped" in rf else False
        superuser = r.boolean(rf["superuser"], f"role {name}.superuser") if "superuser" in rf else False
        if None in (description, scoped, superuser):
            ok = False
            continue
        if scoped and superuser:
            r.error(key_line, f"role {name}: a superuser acts in every organization; it cannot also be "
                              "organization_scoped")
            ok = False
            continue
        roles[name] = Role(name=name, description=description, organization_scoped=scoped, superuser=superuser)
    if not roles and ok:
        r.error(f["roles"].line, "roles: declare at least one role")
    return RoleRules(roles=frozen_map(roles)) if ok and roles else None


KIND = RuleFileKind(name="roles", pattern="roles.yaml", read=read_roles)
