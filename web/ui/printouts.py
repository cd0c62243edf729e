"""``/obligations/<id>/form.pdf`` and ``/disbursements/<id>/form.pdf``: the
ORS and DV printed as their GAM forms (Appendices 11 and 32), linked from the
Execution tab, for whoever may see the document (a 404 page otherwise); the
same PDF as the API's ``GET /api/obligations/{id}/form.pdf`` and
``/api/disbursements/{id}/form.pdf`` (services/printing.py; docs/design.md §8
"Forms")."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, send_file

from services import printing
from web.ui.pages import signed_in

bp = Blueprint("printouts", __name__)


def _pdf(data: bytes, name: str):
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=False, download_name=name)


@bp.route("/obligations/<id:obligation_id>/form.pdf")
def ors_form(obligation_id: int):
    """The ORS as GAM Appendix 11, to print and sign."""
    return _pdf(printing.ors_form_pdf(signed_in(), obligation_id), f"ppaflow-ors-{obligation_id}.pdf")


@bp.route("/disbursements/<id:disbursement_id>/form.pdf")
def dv_form(disbursement_id: int):
    """The DV as GAM Appendix 32, to print and sign."""
    return _pdf(printing.dv_form_pdf(signed_in(), disbursement_id), f"ppaflow-dv-{disbursement_id}.pdf")
