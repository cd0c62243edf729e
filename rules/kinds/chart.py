"""``fund_clusters.yaml`` and ``uacs_object_codes.yaml``: the parts of the
Unified Accounts Code Structure the appropriations use (docs/design.md §12,
"Appropriations"; COA-DBM-DOF Joint Circular 2013-1, COA Circular 2013-002).
"""

from __future__ import annotations

import re

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import FundClusters, ObjectCodeClasses, frozen_map
from rules.reading import FileReader, Item
from workflow.vocabulary import APPROPRIATION_CLASSES

FUND_CLUSTER = re.compile(r"[0-9]{2}")
PREFIX = re.compile(r"[0-9]{1,8}")


def read_fund_clusters(r: FileReader, doc: Item, context: LoadContext) -> FundClusters | None:
    """``fund_clusters``: two-digit code -> name (at least one)."""
    f = r.fields(doc, "fund_clusters.yaml", required=["fund_clusters"])
    if f is None or "fund_clusters" not in f:
        return None
    clusters, ok = {}, True
    for key, value, line in r.mapping(f["fund_clusters"], "fund_clusters"):
        name = r.text(value, f"fund_clusters.{key}")
        if not FUND_CLUSTER.fullmatch(key):
            r.error(line, f"fund_clusters: {key!r} is not a two-digit fund cluster code (quote it: \"01\")")
            ok = False
        elif name is None:
            ok = False
        else:
            clusters[key] = name
    if not clusters and ok:
        r.error(f["fund_clusters"].line, "fund_clusters: declare at least one fund cluster")
        return None
    return FundClusters(frozen_map(clusters)) if ok else None


def read_object_codes(r: FileReader, doc: Item, context: LoadContext) -> ObjectCodeClasses | None:
    """``object_code_classes``: object-code prefix (digits) -> allotment
    class (``ps``, ``mooe``, ``finex``, ``co``)."""
    f = r.fields(doc, "uacs_object_codes.yaml", required=["object_code_classes"])
    if f is None or "object_code_classes" not in f:
        return None
    prefixes, ok = {}, True
    for key, value, line in r.mapping(f["object_code_classes"], "object_code_classes"):
        cls = r.name(value, f"object_code_classes.{key}")
        if not PREFIX.fullmatch(key):
            r.error(line, f"object_code_classes: {key!r} is not a prefix of digits (quote it: \"502\")")
            ok = False
        elif cls not in APPROPRIATION_CLASSES:
            if cls is not None:
                r.error(value.line, f"object_code_classes.{key}: unknown allotment class {cls!r} "
                                    f"(known: {', '.join(APPROPRIATION_CLASSES)})")
            ok = False
        else:
            prefixes[key] = cls
    if not prefixes and ok:
        r.error(f["object_code_classes"].line, "object_code_classes: map at least one prefix")
        return None
    return ObjectCodeClasses(frozen_map(prefixes)) if ok else None


FUND_CLUSTERS_KIND = RuleFileKind(name="fund_clusters", pattern="fund_clusters.yaml", read=read_fund_clusters)
OBJECT_CODES_KIND = RuleFileKind(name="uacs_object_codes", pattern="uacs_object_codes.yaml", read=read_object_codes)
