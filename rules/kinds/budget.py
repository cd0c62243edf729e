"""``budget.yaml``: budget thresholds, alert severities, report remarks (docs/design.md §4, §8)."""

from __future__ import annotations

from decimal import Decimal

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import BudgetRules, ReportRemarks, frozen_map
from rules.reading import HUNDRED, FileReader, Item
from workflow.vocabulary import ALERT_TYPES, SEVERITIES


def read_budget(r: FileReader, doc: Item, context: LoadContext) -> BudgetRules | None:
    """The on-budget band, the weights' tolerance, alert severities, the
    stage allotments need and the MFBM report's remarks; stages are checked
    against the PPA approval's."""
    stages = context.stages()
    f = r.fields(doc, "budget.yaml", required=["variance", "distribution", "alerts", "execution", "report_remarks"])
    if f is None:
        return None
    threshold = tolerance = None
    if "variance" in f:
        vf = r.fields(f["variance"], "variance", required=["on_budget_threshold_pct"])
        if vf and "on_budget_threshold_pct" in vf:
            threshold = r.decimal(vf["on_budget_threshold_pct"], "variance.on_budget_threshold_pct",
                                  Decimal(0), HUNDRED)
    if "distribution" in f:
        df = r.fields(f["distribution"], "distribution", required=["weights_tolerance"])
        if df and "weights_tolerance" in df:
            tolerance = r.decimal(df["weights_tolerance"], "distribution.weights_tolerance", Decimal(0), Decimal(1))
    severities: dict[str, str] = {}
    declared: set[str] = set()
    for key, value, key_line in r.mapping(f["alerts"], "alerts") if "alerts" in f else []:
        declared.add(key)
        af = r.fields(value, f"alerts.{key}", required=["severity"])
        if key not in ALERT_TYPES:
            r.error(key_line, f"alerts: unknown alert type {key!r} (known: {', '.join(ALERT_TYPES)})")
        elif af and "severity" in af:
            if af["severity"].value not in SEVERITIES:
                r.error(af["severity"].line, f"alerts.{key}.severity: unknown severity {af['severity'].value!r} "
                                             f"(known: {', '.join(SEVERITIES)})")
            else:
                severities[key] = af["severity"].value
    if "alerts" in f:
        for missing in [t for t in ALERT_TYPES if t not in declared]:
            r.error(f["alerts"].line, f"alerts: missing alert type {missing!r}")
    stage = None
    if "execution" in f:
        ef = r.fields(f["execution"], "execution", required=["allotments_need_stage"])
        if ef and "allotments_need_stage" in ef:
            stage = r.name(ef["allotments_need_stage"], "execution.allotments_need_stage")
            if stage is not None and stages and stage not in stages:
                r.error(ef["allotments_need_stage"].line, f"execution.allotments_need_stage: unknown stage {stage!r}")
                stage = None
    remarks = None
    if "report_remarks" in f:
        keys = ("high_underspending_above", "over_budget_below", "low_utilization_below", "near_full_utilization_above")
        rf = r.fields(f["report_remarks"], "report_remarks", required=(*keys, "approved_stages"))
        if rf and all(k in rf for k in (*keys, "approved_stages")):
            values = {k: r.decimal(rf[k], f"report_remarks.{k}", Decimal(-1000), Decimal(1000)) for k in keys}
            approved = []
            for item in r.names(rf["approved_stages"], "report_remarks.approved_stages"):
                if stages and item.value not in stages:
                    r.error(item.line, f"report_remarks.approved_stages: unknown stage {item.value!r}")
                else:
                    approved.append(item.value)
            if None not in values.values():
                remarks = ReportRemarks(**values, approved_stages=tuple(approved))
    if None in (threshold, tolerance, stage, remarks) or len(severities) != len(ALERT_TYPES):
        return None
    return BudgetRules(on_budget_threshold_pct=threshold, weights_tolerance=tolerance,
                       alert_severities=frozen_map(severities), allotments_need_stage=stage, remarks=remarks)


KIND = RuleFileKind(name="budget", pattern="budget.yaml", read=read_budget)
