"""The YAML rule files rule authors edit, and the loader that validates them
into frozen, typed rule objects (docs/design.md §6). Nothing else reads YAML."""

from rules.loader import DEFAULT_RULES_DIR, load_rules
from rules.model import RuleSet

__all__ = ["DEFAULT_RULES_DIR", "RuleSet", "load_rules"]
