"""``sync.yaml``: how a PPA follows its execution project (docs/design.md §4)."""

from __future__ import annotations

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import PpaStatusSync, SyncRules, frozen_map
from rules.reading import FileReader, Item, did_you_mean
from workflow.vocabulary import PPA_STATUSES

PROGRESS_METHODS = ("average", "budget_weighted", "completed_count")


def read_sync(r: FileReader, doc: Item, context: LoadContext) -> SyncRules | None:
    """The progress method, status roll-up, and the mappings between work
    item statuses (of work_item_status.yaml) and PPA statuses."""
    statuses = context.statuses()
    f = r.fields(doc, "sync.yaml", required=["progress_method", "work_item_to_ppa", "ppa_to_work_item"],
                 optional=["roll_up_status"])
    if f is None:
        return None
    roll_up_status = r.boolean(f["roll_up_status"], "roll_up_status") if "roll_up_status" in f else True
    method = r.name(f["progress_method"], "progress_method") if "progress_method" in f else None
    if method is not None and method not in PROGRESS_METHODS:
        r.error(f["progress_method"].line, f"progress_method: unknown method {method!r} "
                                           f"(known: {', '.join(PROGRESS_METHODS)})"
                                           f"{did_you_mean(method, PROGRESS_METHODS)}")
        method = None
    declared: dict[str, set[str]] = {"work_item_to_ppa": set(), "ppa_to_work_item": set()}
    to_ppa: dict[str, PpaStatusSync] = {}
    for key, value, key_line in r.mapping(f["work_item_to_ppa"], "work_item_to_ppa") if "work_item_to_ppa" in f else []:
        declared["work_item_to_ppa"].add(key)
        if key not in statuses:
            r.error(key_line, f"work_item_to_ppa: unknown work item status {key!r}{did_you_mean(key, statuses)}")
            continue
        vf = r.fields(value, f"work_item_to_ppa.{key}", required=["status"], optional=["flag"])
        if vf is None or "status" not in vf:
            continue
        if vf["status"].value not in PPA_STATUSES:
            r.error(vf["status"].line, f"work_item_to_ppa.{key}: unknown PPA status {vf['status'].value!r} "
                                       f"(known: {', '.join(PPA_STATUSES)})"
                                       f"{did_you_mean(vf['status'].value, PPA_STATUSES)}")
            continue
        flag = r.name(vf["flag"], f"work_item_to_ppa.{key}.flag") if "flag" in vf else None
        to_ppa[key] = PpaStatusSync(status=vf["status"].value, flag=flag)
    to_item: dict[str, str] = {}
    for key, value, key_line in r.mapping(f["ppa_to_work_item"], "ppa_to_work_item") if "ppa_to_work_item" in f else []:
        declared["ppa_to_work_item"].add(key)
        if key not in PPA_STATUSES:
            r.error(key_line, f"ppa_to_work_item: unknown PPA status {key!r}{did_you_mean(key, PPA_STATUSES)}")
        elif value.value not in statuses:
            r.error(value.line, f"ppa_to_work_item.{key}: unknown work item status {value.value!r}"
                                f"{did_you_mean(value.value, statuses)}")
        else:
            to_item[key] = value.value
    for name, expected in (("work_item_to_ppa", statuses), ("ppa_to_work_item", PPA_STATUSES)):
        if name in f:
            for missing in [s for s in expected if s not in declared[name]]:
                r.error(f[name].line, f"{name}: missing {missing!r}")
    if method is None or roll_up_status is None:
        return None
    return SyncRules(progress_method=method, work_item_to_ppa=frozen_map(to_ppa), ppa_to_work_item=frozen_map(to_item),
                     roll_up_status=roll_up_status)


KIND = RuleFileKind(name="sync", pattern="sync.yaml", read=read_sync)
