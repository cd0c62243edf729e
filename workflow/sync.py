"""How a PPA follows its execution project (docs/design.md §4, rules/default/sync.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from rules.model import SyncRules
from workflow.tree import shown_progress


@dataclass(frozen=True)
class PpaSync:
    """The values a PPA takes from its execution project. ``None`` means
    "leave as it is" (that auto-sync is off). ``progress`` is a whole
    percent: the project's exact progress rounded once, half-up."""

    progress: int | None
    status: str | None
    execution_flag: str | None


def follow_project(rules: SyncRules, project_status: str, project_progress: int | Fraction, *,
                   progress: bool, status: bool) -> PpaSync:
    """What the PPA should show for a project in ``project_status`` with
    ``project_progress`` (rolled up, exact: percent as ``int`` or
    ``Fraction``; rounded here, once, half-up, as the PPA shows it).

    Args:
        progress, status: which of the two to sync (the PPA's
            ``auto_sync_progress`` / ``auto_sync_status``, or both on demand).
    """
    mapped = rules.work_item_to_ppa[project_status]
    return PpaSync(
        progress=shown_progress(project_progress) if progress else None,
        status=mapped.status if status else None,
        execution_flag=mapped.flag if status else None,
    )
