"""ORS and DV numbers as COA's forms give them, pure (docs/design.md §12,
"Document numbers and modes of payment"; issue 12 item 3).

ORS (GAM Appendix 11, "Serial No."): allotment class – UACS funding source
code – year – month – serial, e.g. ``02-01-2026-03-00001``. The allotment
class is two digits (``01`` PS, ``02`` MOOE, ``03`` FinEx, ``06`` CO); the
serial runs in one series per fund cluster and year. The funding source
segment this system generates is the program budget's fund cluster code
(``rules/default/fund_clusters.yaml``); a number given by the budget officer
may carry the fuller UACS funding source code instead: six digits (as the
form's box, e.g. ``01-101101-2025-03-001``) or eight beginning with the
fund cluster.

DV (GAM Appendix 32, "DV No."): year – month – serial, e.g.
``2026-04-0001``, one series per year; the fund cluster is a field of its
own on the DV.

The year and month are those of the document's own date (the ORS date, the
DV date). Nothing here touches a database: the series themselves are kept
by ``services.document_numbers``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

#: Allotment class -> its two-digit code on the ORS (GAM Appendix 11; the
#: UACS object codes 501 PS, 502 MOOE, 503 FinEx, 506 CO).
CLASS_CODES = {"ps": "01", "mooe": "02", "finex": "03", "co": "06"}

#: Digits of a generated serial: five on the ORS, four on the DV (the forms' boxes).
ORS_SERIAL_DIGITS = 5
DV_SERIAL_DIGITS = 4

#: The expected forms, as the 422 sentences name them.
ORS_FORM = "allotment class-funding source code-year-month-serial, e.g. 02-01-2026-03-00001"
DV_FORM = "year-month-serial, e.g. 2026-04-0001"

#: ASCII digits only (``\d`` would take the digits of every script).
_ORS = re.compile(r"(?P<klass>[0-9]{2})-(?P<source>[0-9]{2}|[0-9]{6}|[0-9]{8})-(?P<year>[0-9]{4})-"
                  r"(?P<month>[0-9]{2})-(?P<serial>[0-9]{3,5})")
_DV = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<serial>[0-9]{4,5})")


@dataclass(frozen=True)
class OrsNumber:
    """An ORS number's parts: ``class_code`` (``"02"``), ``funding_source``
    (digits), ``year``, ``month`` and ``serial`` (int, from 1)."""

    class_code: str
    funding_source: str
    year: int
    month: int
    serial: int


@dataclass(frozen=True)
class DvNumber:
    """A DV number's parts: ``year``, ``month`` and ``serial`` (int, from 1)."""

    year: int
    month: int
    serial: int


def format_ors(allotment_class: str, fund_cluster: str, on: date, serial: int) -> str:
    """The ORS number of serial ``serial`` (1, 2, ...) of ``fund_cluster``'s
    series, for an ORS of ``allotment_class`` (``ps``, ``mooe``, ``finex``,
    ``co``) dated ``on``: ``02-01-2026-03-00001``."""
    return f"{CLASS_CODES[allotment_class]}-{fund_cluster}-{on.year:04d}-{on.month:02d}-{serial:0{ORS_SERIAL_DIGITS}d}"


def format_dv(on: date, serial: int) -> str:
    """The DV number of serial ``serial`` of its year's series, for a DV
    dated ``on``: ``2026-04-0001``."""
    return f"{on.year:04d}-{on.month:02d}-{serial:0{DV_SERIAL_DIGITS}d}"


def parse_ors(number: str) -> OrsNumber | None:
    """The parts of an ORS number in the form of GAM Appendix 11, or ``None``
    when ``number`` is not in that form (surrounding spaces not allowed)."""
    match = _ORS.fullmatch(number)
    if match is None or not 1 <= int(match["month"]) <= 12 or int(match["serial"]) == 0:
        return None
    return OrsNumber(match["klass"], match["source"], int(match["year"]), int(match["month"]), int(match["serial"]))


def parse_dv(number: str) -> DvNumber | None:
    """The parts of a DV number in the form of GAM Appendix 32, or ``None``."""
    match = _DV.fullmatch(number)
    if match is None or not 1 <= int(match["month"]) <= 12 or int(match["serial"]) == 0:
        return None
    return DvNumber(int(match["year"]), int(match["month"]), int(match["serial"]))


def ors_problem(number: str, *, allotment_class: str, fund_cluster: str, on: date) -> str | None:
    """Why ``number`` cannot be the number of an ORS of ``allotment_class``
    charged to ``fund_cluster`` and dated ``on`` (a sentence naming the
    expected form), or ``None`` when it can. The class code must be the
    allotment's, the year and month the ORS date's; a funding source of two
    or eight digits must begin with the fund cluster code."""
    parts = parse_ors(number)
    if parts is None:
        return f"{number!r} is not an ORS number in the form {ORS_FORM} (GAM Appendix 11)"
    expected = format_ors(allotment_class, fund_cluster, on, 1).rsplit("-", 1)[0]
    if parts.class_code != CLASS_CODES[allotment_class]:
        return (f"{number!r} is numbered as allotment class {parts.class_code}, but the allotment is "
                f"{allotment_class.upper()} ({CLASS_CODES[allotment_class]}); expected {expected}-serial")
    if len(parts.funding_source) in (2, 8) and not parts.funding_source.startswith(fund_cluster):
        return (f"{number!r} names funding source {parts.funding_source}, which is not of the program budget's "
                f"fund cluster {fund_cluster}; expected {expected}-serial")
    if (parts.year, parts.month) != (on.year, on.month):
        return (f"{number!r} is numbered {parts.year:04d}-{parts.month:02d}, but the ORS is dated "
                f"{on.isoformat()}; expected {expected}-serial")
    return None


def dv_problem(number: str, *, on: date) -> str | None:
    """Why ``number`` cannot be the number of a DV dated ``on`` (a sentence
    naming the expected form), or ``None`` when it can: the year and month
    must be the DV date's."""
    parts = parse_dv(number)
    if parts is None:
        return f"{number!r} is not a DV number in the form {DV_FORM} (GAM Appendix 32)"
    if (parts.year, parts.month) != (on.year, on.month):
        return (f"{number!r} is numbered {parts.year:04d}-{parts.month:02d}, but the DV is dated {on.isoformat()}; "
                f"expected {on.year:04d}-{on.month:02d}-serial")
    return None
