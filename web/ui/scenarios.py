"""Budget scenarios on pages (issue 16 item 1; docs/design.md §17 "In the
web app"): ``/scenarios`` (the list, the form to copy a fiscal year's
enacted appropriations, the choice of up to three to compare),
``/scenarios/<id>`` (its allocations and constraint checks, the form to
adjust them), ``/scenarios/<id>/optimise`` (the optimiser's answer: the
optimum beside the greedy estimate, the gap, binding constraints, PPAs just
in and just out) and ``/scenarios/compare?ids=`` (side by side, differences
from the first highlighted, with its xlsx and PDF). The same services as
``/api/scenarios``; budget analysts, planning officers, executives and
administrators only (the service refuses the others with 403)."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, render_template, request, send_file, url_for

from services import scenarios
from web.ui.forms import ScenarioAdjustForm, ScenarioCopyForm, ScenarioOptimiseForm
from web.ui.pages import (
    error_page,
    first_rows,
    is_htmx,
    load_form,
    refuse,
    saved,
    signed_in,
    submit,
)
from workflow.errors import Conflict, ValidationFailed
from workflow.optimiser import InfeasibleConstraints

bp = Blueprint("scenarios", __name__)

#: How many scenarios the list shows; how many a page compares.
LIST_SIZE = 200
COMPARE_AT_MOST = 3


@bp.route("/scenarios", methods=["GET", "POST"])
def scenario_list():
    """The scenarios, newest first, and the form to copy a year's enacted appropriations."""
    user = signed_in()
    rows = first_rows(scenarios.list_scenarios(user), LIST_SIZE)
    form = load_form(ScenarioCopyForm)
    done, status = submit(form, lambda: scenarios.create_scenario(
        user, name=(form.name.data or "").strip() or f"Enacted FY {form.from_fiscal_year.data}",
        description=form.description.data or "", ceiling=form.ceiling.data, baseline=form.baseline.data,
        from_fiscal_year=form.from_fiscal_year.data),
        lambda scenario: saved(f"Scenario “{scenario.name}” is a copy of FY {scenario.fiscal_year} as enacted.",
                               url_for(".scenario_detail", scenario_id=scenario.id)))
    if done:
        return done
    return render_template("scenarios/list.html", rows=rows, form=form, most=COMPARE_AT_MOST), status


def _detail(user, scenario_id: int, adjust_form, optimise_form, answer=None, status: int = 200):
    scenario = scenarios.get_scenario_or_raise(user, scenario_id)
    allocations = scenarios.list_allocations(user, scenario_id)
    summary = scenarios.summary(scenario, allocations)
    titles = {a.ppa_id: a.ppa.title for a in allocations}
    context = {"scenario": scenario, "allocations": allocations, "summary": summary, "form": adjust_form,
                   "optimise_form": optimise_form, "answer": answer, "titles": titles}
    if answer is not None and is_htmx():
        return render_template("scenarios/_optimiser_answer.html", **context), status
    return render_template("scenarios/detail.html", **context), status


@bp.route("/scenarios/<id:scenario_id>", methods=["GET", "POST"])
def scenario_detail(scenario_id: int):
    """One scenario: allocations, totals, constraint checks, and the form to adjust it."""
    user = signed_in()
    scenarios.get_scenario_or_raise(user, scenario_id)
    form = load_form(ScenarioAdjustForm)
    done, status = submit(form, lambda: scenarios.adjust(
        user, scenario_id, scope=form.scope.data, value=(form.value.data or "").strip() or None,
        percent=form.percent.data, amount=form.amount.data, justification=form.justification.data or ""),
        lambda changed: saved(f"{len(changed)} allocation(s) changed, exact to the centavo.",
                              url_for(".scenario_detail", scenario_id=scenario_id)))
    if done:
        return done
    return _detail(user, scenario_id, form, ScenarioOptimiseForm(formdata=None), status=status)


@bp.route("/scenarios/<id:scenario_id>/optimise", methods=["POST"])
def scenario_optimise(scenario_id: int):
    """Ask the optimiser which of the scenario's PPAs to fund, and show its
    answer on the scenario's page (alone, to HTMX); kept as a new scenario
    when asked."""
    user = signed_in()
    form = ScenarioOptimiseForm()
    answer, status = None, 422
    if form.validate_on_submit():
        try:
            answer = scenarios.optimise(user, scenario_id, save=form.save.data,
                                        name=(form.name.data or "").strip() or None)
            status = 200
        except InfeasibleConstraints as error:  # which constraints conflict, in one sentence
            form.form_errors.append(error.detail)
        except (Conflict, ValidationFailed) as error:
            status = refuse(form, error)
    return _detail(user, scenario_id, ScenarioAdjustForm(formdata=None), form, answer, status)


def _compared_ids() -> list[int] | str:
    """The ids asked for (``?ids=1&ids=2`` from the list's checkboxes, or
    ``?ids=1,2``), or a sentence saying what is wrong with them."""
    raw = [part for value in request.args.getlist("ids") for part in value.split(",") if part.strip()]
    if not all(part.strip().isdigit() and len(part.strip()) <= 9 for part in raw):
        return "Scenario ids are whole numbers."
    ids = list(dict.fromkeys(int(part) for part in raw))
    if not 2 <= len(ids) <= COMPARE_AT_MOST:
        return f"Choose two or three scenarios to compare (you chose {len(ids)})."
    return ids


@bp.route("/scenarios/compare")
def scenario_compare():
    """Two or three scenarios side by side, the differences from the first highlighted."""
    user = signed_in()
    ids = _compared_ids()
    if isinstance(ids, str):
        return error_page(422, "Nothing to compare", ids)
    comparison = scenarios.compare(user, ids)
    headings, rows = scenarios.comparison_rows(comparison)
    return render_template("scenarios/compare.html", comparison=comparison, headings=headings, rows=rows,
                           count=len(comparison["scenarios"]), ids=",".join(map(str, ids)))


@bp.route("/scenarios/compare.<any(xlsx, pdf):fmt>")
def scenario_compare_file(fmt: str):
    """The comparison as an Excel workbook or a PDF (the API's own files)."""
    ids = _compared_ids()
    if isinstance(ids, str):
        return error_page(422, "Nothing to compare", ids)
    comparison = scenarios.compare(signed_in(), ids)
    render = scenarios.comparison_workbook if fmt == "xlsx" else scenarios.comparison_pdf
    mimetype = ("application/pdf" if fmt == "pdf"
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return send_file(BytesIO(render(comparison)), mimetype=mimetype, as_attachment=True,
                     download_name=f"scenarios.{fmt}")
