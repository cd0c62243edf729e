"""``budget.yaml``: budget thresholds, alert severities, report remarks (docs/design.md §4, §8)."""

from __future__ import annotations

from decimal import Decimal

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import (
    REMARK_MEASURES,
    BudgetRules,
    RemarkRule,
    ReportRemarks,
    frozen_map,
)
from rules.reading import HUNDRED, FileReader, Item, did_you_mean
from workflow.earned_value import EAC_METHODS, PV_METHODS
from workflow.vocabulary import ALERT_TYPES, SEVERITIES

#: Alert types added after rule sets were first stored, with the severity a
#: set that does not name them gets (the shipped budget.yaml's): PPAs stay
#: pinned to such sets (docs/design.md §13), so they must keep loading.
LATER_ALERT_SEVERITIES = {"workitem_schedule_performance": "medium", "workitem_cost_performance": "high",
                          "workitem_critical_slip": "high"}


def read_budget(r: FileReader, doc: Item, context: LoadContext) -> BudgetRules | None:
    """The on-budget band, the weights' tolerance, alert severities, the
    stage allotments need and the MFBM report's remarks; stages are checked
    against the PPA approval's."""
    stages = context.stages()
    f = r.fields(doc, "budget.yaml", required=["variance", "distribution", "alerts", "execution", "report_remarks"],
                 optional=["earned_value"])
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
            r.error(key_line, f"alerts: unknown alert type {key!r} (known: {', '.join(ALERT_TYPES)})"
                              f"{did_you_mean(key, ALERT_TYPES)}")
        elif af and "severity" in af:
            if af["severity"].value not in SEVERITIES:
                r.error(af["severity"].line, f"alerts.{key}.severity: unknown severity {af['severity'].value!r} "
                                             f"(known: {', '.join(SEVERITIES)})"
                                             f"{did_you_mean(af['severity'].value, SEVERITIES)}")
            else:
                severities[key] = af["severity"].value
    if "alerts" in f:
        for missing in [t for t in ALERT_TYPES if t not in declared]:
            if missing in LATER_ALERT_SEVERITIES:  # a set stored before the type existed
                severities[missing] = LATER_ALERT_SEVERITIES[missing]
            else:
                r.error(f["alerts"].line, f"alerts: missing alert type {missing!r}")
    stage = None
    if "execution" in f:
        ef = r.fields(f["execution"], "execution", required=["allotments_need_stage"])
        if ef and "allotments_need_stage" in ef:
            stage = r.name(ef["allotments_need_stage"], "execution.allotments_need_stage")
            if stage is not None and stages and stage not in stages:
                r.error(ef["allotments_need_stage"].line, f"execution.allotments_need_stage: unknown stage {stage!r}"
                                                          f"{did_you_mean(stage, stages)}")
                stage = None
    remarks = _read_remarks(r, f["report_remarks"], stages) if "report_remarks" in f else None
    earned = _read_earned_value(r, f["earned_value"]) if "earned_value" in f else {}
    if None in (threshold, tolerance, stage, remarks, earned) or len(severities) != len(ALERT_TYPES):
        return None
    return BudgetRules(on_budget_threshold_pct=threshold, weights_tolerance=tolerance,
                       alert_severities=frozen_map(severities), allotments_need_stage=stage, remarks=remarks,
                       **earned)


def _read_earned_value(r: FileReader, item: Item) -> dict | None:
    """``earned_value`` (optional; defaults: linear, cpi, no alerts): the
    planned value and EAC methods (``workflow.earned_value``) and the SPI and
    CPI alert thresholds (ratios, 0-10)."""
    where = "earned_value"
    names = ("pv_method", "eac_method", "spi_alert_below", "cpi_alert_below")
    ef = r.fields(item, where, required=(), optional=names)
    if ef is None:
        return None
    out: dict = {}
    ok = True
    for key, known in (("pv_method", PV_METHODS), ("eac_method", EAC_METHODS)):
        if key in ef:
            value = r.name(ef[key], f"{where}.{key}")
            if value is not None and value not in known:
                r.error(ef[key].line, f"{where}.{key}: unknown method {value!r} (known: {', '.join(known)})"
                                      f"{did_you_mean(value, known)}")
                value = None
            ok = ok and value is not None
            out[key] = value
    for key in ("spi_alert_below", "cpi_alert_below"):
        if key in ef:
            value = r.decimal(ef[key], f"{where}.{key}", Decimal(0), Decimal(10))
            ok = ok and value is not None
            out[key] = value
    return out if ok else None


def _read_remarks(r: FileReader, item: Item, stages) -> ReportRemarks | None:
    """``report_remarks``: the stages on the MFBM report's main sheet and
    its remark rules, each ``{measure, below | above, remark}``; every error
    is recorded as file:line."""
    where = "report_remarks"
    rf = r.fields(item, where, required=("enacted_stages", "no_allotment", "otherwise", "rules"))
    if rf is None or not all(k in rf for k in ("enacted_stages", "no_allotment", "otherwise", "rules")):
        return None
    ok = True
    enacted = []
    for stage_item in r.names(rf["enacted_stages"], f"{where}.enacted_stages"):
        if stages and stage_item.value not in stages:
            r.error(stage_item.line, f"{where}.enacted_stages: unknown stage {stage_item.value!r}"
                                     f"{did_you_mean(stage_item.value, stages)}")
            ok = False
        else:
            enacted.append(stage_item.value)
    if not enacted:
        r.error(rf["enacted_stages"].line, f"{where}.enacted_stages: name at least one stage")
        ok = False
    no_allotment = r.text(rf["no_allotment"], f"{where}.no_allotment")
    otherwise = r.text(rf["otherwise"], f"{where}.otherwise")
    rules = []
    for index, rule_item in enumerate(r.sequence(rf["rules"], f"{where}.rules")):
        at = f"{where}.rules[{index}]"
        ff = r.fields(rule_item, at, required=("measure", "remark"), optional=("below", "above"))
        if ff is None or "measure" not in ff or "remark" not in ff:
            ok = False
            continue
        measure, remark = r.name(ff["measure"], f"{at}.measure"), r.text(ff["remark"], f"{at}.remark")
        if measure is not None and measure not in REMARK_MEASURES:
            r.error(ff["measure"].line, f"{at}.measure: unknown measure {measure!r} "
                                        f"(known: {', '.join(REMARK_MEASURES)})"
                                        f"{did_you_mean(measure, REMARK_MEASURES)}")
            measure = None
        if ("below" in ff) == ("above" in ff):
            r.error(rule_item.line, f"{at}: give exactly one of 'below' and 'above'")
            ok = False
            continue
        bound = "below" if "below" in ff else "above"
        threshold = r.decimal(ff[bound], f"{at}.{bound}", Decimal(-1000), Decimal(1000))
        if None in (measure, remark, threshold):
            ok = False
            continue
        rules.append(RemarkRule(measure=measure, remark=remark, **{bound: threshold}))
    if not ok or None in (no_allotment, otherwise):
        return None
    return ReportRemarks(enacted_stages=tuple(enacted), rules=tuple(rules), no_allotment=no_allotment,
                         otherwise=otherwise)


KIND = RuleFileKind(name="budget", pattern="budget.yaml", read=read_budget)
