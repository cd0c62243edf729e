"""Rule sets and their loader (docs/design.md §6).

A rule set is a folder of YAML files that rule authors edit; the one
shipped with ppaflow is ``rules/default/`` (with a README for authors). The
code that reads them lives here, out of the authors' way: ``reading`` (YAML
with lines, errors collected), ``machines`` (state machines as graphs),
``kinds`` (one module per kind of rule file, and their registry),
``loader`` (the folder -> one validated, frozen ``RuleSet``) and ``model``
(the rule objects everything else reads). Nothing else reads YAML."""

from rules.loader import DEFAULT_RULES_DIR, load_rules
from rules.model import RuleSet

__all__ = ["DEFAULT_RULES_DIR", "RuleSet", "load_rules"]
