"""The PPA pages (issue 11; docs/design.md §11): the list (``/ppas``, its
filters, sort order, totals and xlsx export), a new PPA (``/ppas/new``), and
the PPA page's Details and History tabs (the History tab under the approval
workflow's diagram, rules/diagrams.py), its Actions panel (one form per
approval trigger, ``/ppas/<id>/transitions``) and its supporting documents
(``/ppas/<id>/attachments``).

The PPA page is one URL per tab, all on ``ppas/_layout.html`` (header, tab
navigation, Actions panel); the Work items, Budget and Execution tabs are
their own modules. Views parse a form, call one service, render; access is
exactly the API's (a PPA the user may not see is a 404 page, a closed action
is refused by the service whatever the page showed).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import Any

from flask import Blueprint, render_template, request, send_file, url_for

from db.models import Ppa
from rules import diagrams
from rules.model import PPA_WORKFLOW
from services import (
    approvals,
    attachments,
    calendar,
    escalations,
    ppas,
    timelines,
    workbooks,
)
from services.ppas import PpaFilters
from services.runtime import get_runtime, runtime_for
from web.contract import XLSX
from web.parsing import takes_files
from web.ui.filters import local_datetime, stage_label, words
from web.ui.forms import AttachmentForm, PpaFilterForm, PpaForm, TransitionForm, choices
from web.ui.pages import (
    Sorting,
    error_page,
    load_form,
    paginate,
    same_site_path,
    saved,
    signed_in,
    submit,
)
from web.ui.performance import performance_context

bp = Blueprint("ppas", __name__)

#: Columns of the list a person can sort by (``services.ppas.SORTS``), newest first by default.
DEFAULT_SORT = "-id"


# -- the list ------------------------------------------------------------------------------------------------

def _filter_form(user) -> tuple[PpaFilterForm, PpaFilters]:
    """The list's filter form and the filters it holds; a value that does
    not validate is shown with its message and not applied."""
    form = PpaFilterForm()
    form.moa.choices = choices([("", "Any MOA")] + [(o.code, f"{o.code} — {o.name}")
                                                     for o in ppas.visible_organizations(user)])
    form.stage.choices = choices([("", "Any stage")] + [(name, state.label) for name, state in
                                                         get_runtime().rules.approval.machine.states.items()])
    form.validate()
    return form, PpaFilters(fiscal_year=_valid(form.fiscal_year), approval_status=_valid(form.stage),
                            status=_valid(form.status), category=_valid(form.category), moa=_valid(form.moa),
                            q=(_valid(form.q) or "").strip() or None)


def _valid(field):
    """A filter's value, or ``None`` when it is empty or refused (its message is shown)."""
    return None if field.errors else (field.data or None)


def _filters_text(filters: PpaFilters) -> str:
    """The filters in words, for the export's title rows."""
    parts = [f"fiscal year {filters.fiscal_year}" if filters.fiscal_year else "",
             f"MOA {filters.moa}" if filters.moa else "",
             f"stage {stage_label(filters.approval_status)}" if filters.approval_status else "",
             f"status {words(filters.status)}" if filters.status else "",
             f"category {words(filters.category)}" if filters.category else "",
             f"title containing “{filters.q}”" if filters.q else ""]
    return "Filters: " + (", ".join(p for p in parts if p) or "none (every PPA you may see)")


@bp.route("/ppas")
def ppa_list():
    """The PPAs the user may see, filtered, sorted by a column, paged, with
    their number and total budget."""
    user = signed_in()
    form, filters = _filter_form(user)
    sorting = Sorting.from_request(ppas.SORTS, DEFAULT_SORT)
    query = ppas.list_ppas(user, filters, sorting.current)
    totals = ppas.list_totals(query)
    rows, pagination = paginate(query, total=totals.count)
    export_args = {key: value for key, value in request.args.items() if key != "page"}
    return render_template("ppas/list.html", form=form, ppas=rows, pagination=pagination, totals=totals,
                           sorting=sorting, export_args=export_args,
                           may_create=bool(ppas.authoring_organizations(user)))


@bp.route("/ppas/export.xlsx")
def ppa_export():
    """The filtered list, in its order, as an Excel workbook (every row, not one page)."""
    user = signed_in()
    _, filters = _filter_form(user)
    query = ppas.list_ppas(user, filters, Sorting.from_request(ppas.SORTS, DEFAULT_SORT).current)
    totals = ppas.list_totals(query)
    data = workbooks.ppa_list_workbook(ppas.each_ppa(query), _filters_text(filters), totals.budget)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="ppaflow_PPAs.xlsx")


# -- a new PPA and the Details tab ---------------------------------------------------------------------------

def _ppa_form(user, ppa: Ppa | None = None) -> PpaForm:
    """The PPA form: what was posted (or kept across a sign-in), else the
    PPA's values, else the defaults of a new one."""
    defaults: dict[str, Any] = {}
    if ppa is not None:
        defaults = {name: getattr(ppa, name) for name in PpaForm.CONTENT if name != "implementing_moa"}
        defaults |= {"implementing_moa": ppa.organization.code, "version": ppa.etag,
                     "wbs_template": ppa.wbs_template or ""}
    else:
        defaults["fiscal_year"] = calendar.today().year
        if user.organization is not None:
            defaults["implementing_moa"] = user.organization.code
    form = load_form(PpaForm, data=defaults)
    organizations = ppas.authoring_organizations(user)
    form.implementing_moa.choices = choices((o.code, f"{o.code} — {o.name}") for o in organizations)
    templates = get_runtime().rules.wbs.templates
    form.wbs_template.choices = choices([("", "The category's default")]
                                        + [(name, name.capitalize()) for name in templates])
    return form


def _values(form: PpaForm) -> dict[str, Any]:
    """The form's fields as the service takes them (blank texts as ``None``)."""
    values = {name: form[name].data for name in PpaForm.CONTENT}
    for name in ("program_code", "sector", "funding_source", "wbs_template"):
        values[name] = (values[name] or "").strip() or None
    values["summary"] = values["summary"] or ""
    values["title"] = values["title"].strip()
    return values


def _changes(ppa: Ppa, values: dict[str, Any]) -> dict[str, Any]:
    """The values that differ from what the PPA holds now (only those are sent)."""
    current = {name: getattr(ppa, name) for name in values if name != "implementing_moa"}
    current["implementing_moa"] = ppa.organization.code
    return {name: value for name, value in values.items() if current.get(name) != value}


@bp.route("/ppas/new", methods=["GET", "POST"])
def new():
    """Create a PPA in draft (MOA focal persons for their MOA, administrators for any)."""
    user = signed_in()
    if not ppas.authoring_organizations(user):
        return error_page(403, "Forbidden", "Only MOA focal persons (for their MOA) and administrators create PPAs.")
    form = _ppa_form(user)
    done, status = submit(form, lambda: ppas.create_ppa(user, _values(form)),
                          lambda ppa: saved(f"PPA {ppa.id} created as a draft. Attach its supporting documents "
                                            "below, then submit it when it is ready.",
                                            url_for(".detail", ppa_id=ppa.id)))
    return done or (render_template("ppas/new.html", form=form), status)


def tab_context(user, ppa_id: int, tab: str | None) -> dict:
    """What the PPA page's layout needs (``ppas/_layout.html``): the PPA, its
    actions as ``user`` sees them, the active tab. Every tab's view starts
    from it.

    Raises:
        NotFound: the PPA is not visible to ``user`` (a 404 page).
    """
    ppa, actions = approvals.available_actions(user, ppa_id)
    return {"ppa": ppa, "actions": actions, "active_tab": tab, "escalation": escalations.escalation_of(ppa)}


def _tab(template: str, ppa_id: int, status: int = 200, *, active_tab: str | None, **context):
    """Render a tab of the PPA page with the layout's context."""
    return render_template(template, **tab_context(signed_in(), ppa_id, active_tab), **context), status


def _documents(ppa_id: int, upload_form: AttachmentForm | None = None) -> dict[str, Any]:
    """The Details tab's supporting documents and the upload form, if the user may upload."""
    user = signed_in()
    ppa = ppas.get_ppa_or_raise(user, ppa_id)
    may_attach = attachments.may_attach(user, "ppa", ppa.organization_id)
    return {"documents": attachments.list_attachments(user, "ppa", ppa_id),
            "upload_form": (upload_form or AttachmentForm()) if may_attach else None,
            "max_size": attachments.max_bytes()}


def _saved_first(user, ppa_id: int) -> str:
    """Who saved the PPA before the user, and when (a stale form's message)."""
    change = ppas.last_change(user, ppa_id)
    who = change.username or "Someone"
    if change.full_name and change.full_name != change.username:
        who = f"{change.full_name} ({change.username})"
    return (f"{who} saved this PPA at {local_datetime(change.at)}, after you opened it; nothing of yours was "
            "saved. Your input is kept below: compare it with theirs (open the PPA in another tab), then save "
            "again to replace their values with yours.")


@bp.route("/ppas/<id:ppa_id>", methods=["GET", "POST"])
def detail(ppa_id: int):
    """The Details tab: every field, an edit form while the PPA is in draft
    (saved only over the version it was read at: if someone saved first,
    the page says who and when and keeps the input), and the supporting
    documents."""
    user = signed_in()
    ppa = ppas.get_ppa_or_raise(user, ppa_id)
    form, status = None, 200
    if request.method == "POST" or ppas.is_editable(user, ppa):
        form = _ppa_form(user, ppa)
        done, status = submit(form, lambda: ppas.update_ppa(user, ppa_id, _changes(ppa, _values(form)),
                                                            if_match=form.version.data or None),
                              lambda changed: saved(f"PPA {ppa_id} saved.", url_for(".detail", ppa_id=ppa_id)),
                              stale=lambda: _saved_first(user, ppa_id))
        if done:
            return done
        if status == 412:  # the next save goes over the version just reported
            form.version.data = ppas.last_change(user, ppa_id).etag
    return _tab("ppas/details.html", ppa_id, status, active_tab="details", form=form,
                returned=approvals.returned_by(user, ppa_id), **_documents(ppa_id))


@bp.route("/ppas/<id:ppa_id>/attachments", methods=["POST"])
@takes_files
def upload(ppa_id: int):
    """Attach a supporting document (its type is checked by its content)."""
    user = signed_in()
    form = AttachmentForm()
    done, status = submit(form, lambda: attachments.add_attachment(user, "ppa", ppa_id, form.file.data.stream,
                                                                   form.file.data.filename),
                          lambda attachment: saved(f"{attachment.file_name} attached.",
                                                   url_for(".detail", ppa_id=ppa_id) + "#documents"))
    if done:
        return done
    ppa = ppas.get_ppa_or_raise(user, ppa_id)
    return _tab("ppas/details.html", ppa_id, status, active_tab="details",
                form=_ppa_form(user, ppa) if ppas.is_editable(user, ppa) else None,
                returned=approvals.returned_by(user, ppa_id), **_documents(ppa_id, form))


# -- the Actions panel -----------------------------------------------------------------------------------------

@bp.route("/ppas/<id:ppa_id>/transitions", methods=["POST"])
def transition(ppa_id: int):
    """Fire one approval trigger from the Actions panel, then return to the
    tab it was fired from. A refused comment (reject, return for revision
    without one) or a stale version shows the form again, on its own tab."""
    user = signed_in()
    form = TransitionForm()
    back = same_site_path(form.next.data) or url_for(".detail", ppa_id=ppa_id)

    def fired(ppa: Ppa):
        return saved(f"{ppa_transition_word(form.trigger.data).capitalize()}: PPA {ppa.id} is now in "
                     f"{stage_label(ppa.approval_status)}.", back)

    done, status = submit(form, lambda: approvals.fire_transition(
        user, ppa_id, form.trigger.data, comment=form.comment.data or None, if_match=form.version.data or None),
        fired, stale=lambda: _moved_first(user, ppa_id))
    if done:
        return done
    if status == 412:
        form.version.data = ppas.last_change(user, ppa_id).etag
    return _tab("ppas/transition.html", ppa_id, status, active_tab=None, form=form, back=back)


def ppa_transition_word(trigger: str) -> str:
    """What a trigger did, as a flash message starts: ``submit`` -> ``submitted``."""
    return {"submit": "submitted", "approve": "approved", "enact": "enacted", "reject": "rejected",
            "return_for_revision": "returned for revision"}.get(trigger, trigger)


def _moved_first(user, ppa_id: int) -> str:
    change = ppas.last_change(user, ppa_id)
    return (f"{change.username or 'Someone'} changed this PPA at {local_datetime(change.at)}, after you opened "
            "it; nothing was done. Look at the PPA as it is now, then choose again.")


# -- the History tab ---------------------------------------------------------------------------------------------

@bp.route("/ppas/<id:ppa_id>/history")
def history(ppa_id: int):
    """Transitions and audited changes, in one list by time, under the
    approval workflow's diagram with the PPA's stage and path highlighted."""
    user = signed_in()
    timeline = timelines.ppa_timeline(user, ppa_id)
    ppa = ppas.get_ppa_or_raise(user, ppa_id)
    stage = ppa.approval_status
    steps = path_taken(timeline, stage)
    rules = runtime_for(ppa.rules_hash).rules  # the set it is pinned to (docs/design.md §13)
    return _tab("ppas/history.html", ppa_id, active_tab="history", timeline=timeline, steps=steps,
                rules_hash=rules.hash,
                diagram=diagrams.mermaid(rules, PPA_WORKFLOW, current=stage, path=[s.stage for s in steps]))


@bp.route("/ppas/<id:ppa_id>/performance")
def performance_tab(ppa_id: int):
    """Earned value (SPI, CPI), the S-curve and the critical path."""
    return _tab("ppas/performance.html", ppa_id, active_tab="performance", **performance_context(ppa_id))


@dataclass(frozen=True)
class Step:
    """One stage on a PPA's way (the diagram's text alternative): the stage
    entered, and the transition that entered it (``None`` for where it started)."""

    stage: str
    entry: timelines.TimelineEntry | None = None


def path_taken(timeline: list[timelines.TimelineEntry], stage: str) -> list[Step]:
    """The stages a PPA went through, oldest first, ending at ``stage`` (its
    stage now): where its first transition started (or ``stage`` when it has
    none), then one step per approval transition of ``timeline``."""
    moves = [entry for entry in timeline if entry.kind == "transition"]
    if not moves:
        return [Step(stage)]
    return [Step(moves[0].from_stage)] + [Step(entry.to_stage, entry) for entry in moves]
