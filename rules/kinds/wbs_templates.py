"""``wbs_templates.yaml``: WBS templates and work type rules (docs/design.md §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import TemplateLimits, TemplateNode, WbsRules, WbsTemplate, frozen_map
from rules.reading import HUNDRED, FileReader, Item, did_you_mean
from workflow.vocabulary import CATEGORIES, WORK_TYPES


def read_wbs(r: FileReader, doc: Item, context: LoadContext) -> WbsRules | None:
    """Templates, allowed children per work type, the default template per
    category, the approval stages where tracking cannot start, and the
    templates' size limits."""
    stages = context.stages()
    f = r.fields(doc, "wbs_templates.yaml", required=["allowed_children", "category_defaults", "templates"],
                 optional=["tracking_not_in_stages", "limits"])
    if f is None:
        return None
    limits = _read_limits(r, f["limits"]) if "limits" in f else TemplateLimits()
    allowed: dict[str, tuple[str, ...]] = {}
    for key, value, key_line in r.mapping(f["allowed_children"], "allowed_children") if "allowed_children" in f else []:
        if key not in WORK_TYPES:
            r.error(key_line, f"allowed_children: unknown work type {key!r} (known: {', '.join(WORK_TYPES)})"
                              f"{did_you_mean(key, WORK_TYPES)}")
            continue
        children = []
        for child in r.sequence(value, f"allowed_children.{key}"):
            if child.value not in WORK_TYPES:
                r.error(child.line, f"allowed_children.{key}: unknown work type {child.value!r}"
                                    f"{did_you_mean(child.value, WORK_TYPES)}")
            elif child.value == "project":
                r.error(child.line, f"allowed_children.{key}: a project is always a root, never a child")
            else:
                children.append(child.value)
        allowed[key] = tuple(children)
    if "allowed_children" in f:
        for missing in [t for t in WORK_TYPES if t not in allowed]:
            r.error(f["allowed_children"].line, f"allowed_children: missing work type {missing!r}")

    templates: dict[str, WbsTemplate] = {}
    for key, value, key_line in r.mapping(f["templates"], "templates") if "templates" in f else []:
        name = r.name(Item(key, key_line), "template name")
        tf = r.fields(value, f"template {key}", required=["children"], optional=["label"])
        if name is None or tf is None:
            continue
        label = r.text(tf["label"], f"{name}.label") if "label" in tf else name
        size = _Size(limits or TemplateLimits())  # broken limits: read with the defaults, no cascade of errors
        children = _read_level(r, tf["children"], f"template {name}", "project", allowed, size) if "children" in tf else None
        if children is not None and label is not None:
            templates[name] = WbsTemplate(name=name, label=label, children=children)

    defaults: dict[str, str] = {}
    declared: set[str] = set()
    for key, value, key_line in r.mapping(f["category_defaults"], "category_defaults") if "category_defaults" in f else []:
        declared.add(key)
        if key not in CATEGORIES:
            r.error(key_line, f"category_defaults: unknown category {key!r} (known: {', '.join(CATEGORIES)})"
                              f"{did_you_mean(key, CATEGORIES)}")
        elif value.value not in templates:
            r.error(value.line, f"category_defaults.{key}: unknown template {value.value!r}"
                                f"{did_you_mean(value.value, templates)}")
        else:
            defaults[key] = value.value
    if "category_defaults" in f:
        for missing in [c for c in CATEGORIES if c not in declared]:
            r.error(f["category_defaults"].line, f"category_defaults: missing category {missing!r}")
    closed = []
    for stage in r.names(f["tracking_not_in_stages"], "tracking_not_in_stages") if "tracking_not_in_stages" in f else []:
        if stages and stage.value not in stages:
            r.error(stage.line, f"tracking_not_in_stages: unknown approval stage {stage.value!r}"
                                f"{did_you_mean(stage.value, stages)}")
        else:
            closed.append(stage.value)
    if limits is None:
        return None
    return WbsRules(templates=frozen_map(templates), category_defaults=frozen_map(defaults),
                    allowed_children=frozen_map(allowed), tracking_not_in_stages=tuple(closed), limits=limits)


#: The most ``limits`` in wbs_templates.yaml may allow: a template is a
#: skeleton people fill in, never a bulk import.
TEMPLATE_LIMIT_CEILINGS = {"max_depth": 10, "max_items": 5_000}


def _read_limits(r: FileReader, item: Item) -> TemplateLimits | None:
    """``limits`` of wbs_templates.yaml; each missing key keeps its default
    (``rules.model.TemplateLimits``)."""
    f = r.fields(item, "limits", optional=TEMPLATE_LIMIT_CEILINGS)
    if f is None:
        return None
    values = {key: r.integer(f[key], f"limits.{key}", 1, TEMPLATE_LIMIT_CEILINGS[key]) for key in f}
    return None if None in values.values() else TemplateLimits(**values)


@dataclass
class _Size:
    """What one template has used of its ``limits`` so far."""

    limits: TemplateLimits
    items: int = 0
    exceeded: bool = False


def _read_level(r: FileReader, item: Item, where: str, parent_type: str,
                allowed: Mapping[str, tuple[str, ...]], size: _Size, depth: int = 1) -> tuple[TemplateNode, ...] | None:
    """One level of a template: the siblings under ``parent_type``, at
    ``depth`` levels below the project.

    Checks each node, that budget percentages sum to exactly 100, that
    durations are given for all siblings (summing to 100) or for none, and
    that the template stays within ``limits`` (depth and number of items;
    the first item beyond them is the error's line, and reading stops there).
    """
    elements = r.sequence(item, f"{where}: children")
    if not elements:
        r.error(item.line, f"{where}: children: expected at least one item")
        return None
    if depth > size.limits.max_depth:
        r.error(item.line, f"{where}: nested {depth} levels below the project; templates may have at most "
                           f"{size.limits.max_depth} (limits.max_depth)")
        size.exceeded = True
        return None
    size.items += len(elements)
    if size.items > size.limits.max_items:
        r.error(elements[0].line, f"{where}: the template has more than {size.limits.max_items} work items "
                                  "(limits.max_items)")
        size.exceeded = True
        return None
    nodes: list[TemplateNode] = []
    ok = True
    budget_total, durations = Decimal(0), []
    for element in elements:
        f = r.fields(element, f"{where}: item", required=["title", "work_type", "budget_pct"],
                     optional=["duration_pct", "children"])
        if f is None:
            ok = False
            continue
        title = r.text(f["title"], f"{where}: title") if "title" in f else None
        work_type = f["work_type"].value if "work_type" in f else None
        if work_type is not None and work_type not in WORK_TYPES:
            r.error(f["work_type"].line, f"{where}: unknown work type {work_type!r}{did_you_mean(work_type, WORK_TYPES)}")
            work_type = None
        elif work_type is not None and parent_type in allowed and work_type not in allowed[parent_type]:
            r.error(f["work_type"].line, f"{where}: a {work_type} cannot be placed under a {parent_type} "
                                         f"(allowed: {', '.join(allowed[parent_type]) or 'nothing'})")
            work_type = None
        budget = r.decimal(f["budget_pct"], f"{where}: budget_pct", Decimal("0.01"), HUNDRED) if "budget_pct" in f else None
        duration = (r.decimal(f["duration_pct"], f"{where}: duration_pct", Decimal(0), HUNDRED)
                    if "duration_pct" in f else None)
        durations.append((duration, element.line))
        children: tuple[TemplateNode, ...] = ()
        if "children" in f and work_type is not None:
            nested = _read_level(r, f["children"], f"{where} > {title}", work_type, allowed, size, depth + 1)
            if size.exceeded:  # said once; the rest of this template is not read
                return None
            ok = ok and nested is not None
            children = nested or ()
        if title is None or work_type is None or budget is None or ("duration_pct" in f and duration is None):
            ok = False
            continue
        budget_total += budget
        nodes.append(TemplateNode(title=title, work_type=work_type, budget_pct=budget,
                                  duration_pct=duration, children=children))
    if ok and budget_total != HUNDRED:
        r.error(elements[0].line, f"{where}: budget_pct of this level sums to {budget_total}, not 100")
        ok = False
    given = [d for d, _ in durations if d is not None]
    if given and len(given) != len(durations):
        r.error(elements[0].line, f"{where}: give duration_pct to every item of this level or to none")
        ok = False
    elif given and ok and sum(given) != HUNDRED:
        r.error(elements[0].line, f"{where}: duration_pct of this level sums to {sum(given)}, not 100")
        ok = False
    return tuple(nodes) if ok else None


KIND = RuleFileKind(name="wbs", pattern="wbs_templates.yaml", read=read_wbs)
