"""A MOA's focal persons and the quarterly coordination meetings, with the
pre-meeting report built from ppaflow's own figures (docs/design.md §16
"Focal persons and coordination meetings"; issue 15 item 6).

Who may do what (admins may do all):

| action | roles |
|---|---|
| appoint, change, end a MOA's focal persons | ``planning_officer`` (BPDA) |
| read a MOA's focal persons, contacts included | anyone signed in who may see the MOA's PPAs |
| create and change coordination meetings | ``planning_officer`` (BPDA) |
| read a meeting and its pre-meeting report | anyone signed in who may see its MOA (all, for an all-MOA meeting) |

Contacts (e-mail, phone) are personal data (RA 10173): they are shown only
to signed-in users who may see the MOA (the PPAs' scoping,
``services.access``), never on a public page. To a MOA's focal person,
another MOA's focal persons and meetings do not exist (404).

The kinds of focal persons and the default lead time of the pre-meeting
report are ``goals.yaml`` ``coordination``. A MOA has at most one current
primary focal person: the database's partial unique index
(``uq_focal_persons_current_primary``) decides, so two appointments at the
same moment cannot both land; the loser is 409 ``primary_exists``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Select, func, or_, select, update

from db import db
from db.models import CoordinationMeeting, FocalPerson, Organization, User
from services import alerts, mfbm, needs, privacy
from services.access import require_role, sees_all_organizations, visible_organization
from services.concurrency import check_if_match
from services.runtime import get_runtime
from services.unit_of_work import transaction
from services.workbooks import put, workbook_bytes
from workflow.errors import Conflict, Duplicate, NotFound, ValidationFailed
from workflow.money import ZERO

#: Who appoints focal persons and calls coordination meetings (docs/design.md §16).
MANAGERS = ("planning_officer",)

#: The last day of each quarter of a fiscal year (month, day).
QUARTER_ENDS = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}

#: The shapes of a focal person's contacts (the API's schema checks them too).
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"[0-9+()\- ]+")

FOCAL_FIELDS = ("kind", "name", "position", "email", "phone", "user_id", "appointed_on", "ended_on")
MEETING_FIELDS = ("fiscal_year", "quarter", "held_on", "report_due_on", "agenda")


def _rules():
    return get_runtime().rules.goals


def quarter_end(fiscal_year: int, quarter: int) -> date:
    """The last day of ``quarter`` (1-4) of ``fiscal_year`` (31 March, 30 June, 30 September, 31 December)."""
    month, day = QUARTER_ENDS[quarter]
    return date(fiscal_year, month, day)


def _organization(user: User, organization_id: int) -> Organization:
    """The organization ``organization_id`` if ``user`` may see its records.

    Raises:
        NotFound: unknown, or another MOA's for an organization-scoped user.
    """
    organization = db.session.get(Organization, organization_id)
    if organization is None or not visible_organization(user, organization.id):
        raise NotFound(f"organization {organization_id} not found")
    return organization


# -- focal persons ------------------------------------------------------------------------


def _focal_values(organization_id: int, data: Mapping[str, Any], current: FocalPerson | None = None) -> dict:
    """The columns of an appointment from its fields, checked (ValidationFailed per field)."""
    errors: dict[str, list[str]] = {}
    kinds = _rules().focal_person_kinds
    if data.get("kind") is not None and data["kind"] not in kinds:
        errors["kind"] = [f"unknown kind {data['kind']!r} (known: {', '.join(kinds)})"]
    if data.get("email") and not EMAIL.fullmatch(data["email"]):
        errors["email"] = ["not a valid e-mail address"]
    if data.get("phone") and not PHONE.fullmatch(data["phone"]):
        errors["phone"] = ["must be a phone number: digits, spaces, '+', '(', ')' or '-'"]
    if data.get("user_id") is not None:
        person = db.session.get(User, data["user_id"])
        if person is None:
            errors["user_id"] = [f"no user {data['user_id']}"]
        elif person.organization_id != organization_id:
            errors["user_id"] = [f"user {data['user_id']} is not of this MOA"]
    appointed = data.get("appointed_on", current.appointed_on if current else None)
    ended = data.get("ended_on", current.ended_on if current else None)
    if appointed is not None and ended is not None and ended < appointed:
        errors["ended_on"] = ["must not be before appointed_on"]
    if errors:
        raise ValidationFailed(errors)
    return {k: ("" if v is None and k in ("position", "email", "phone") else v)
            for k, v in data.items() if k in FOCAL_FIELDS}


def _check_one_primary(row: FocalPerson) -> None:
    """Refuse a second current primary focal person of the row's MOA (the
    partial unique index keeps the rule under races; this names it first)."""
    if row.kind != "primary" or row.ended_on is not None:
        return
    query = select(FocalPerson.id).where(FocalPerson.organization_id == row.organization_id,
                                         FocalPerson.kind == "primary", FocalPerson.ended_on.is_(None))
    other = db.session.scalar(query.where(FocalPerson.id != row.id) if row.id is not None else query)
    if other is not None:
        raise Conflict(f"{row.organization.code if row.organization else 'the MOA'} already has a current primary "
                       f"focal person (focal person {other}); end that appointment first", code="primary_exists")


def _primary_conflict() -> Conflict:
    return Conflict("the MOA already has a current primary focal person; end that appointment first",
                    code="primary_exists")


def appoint_focal_person(user: User, organization_id: int, data: Mapping[str, Any]) -> FocalPerson:
    """Record a focal person of a MOA: kind (``goals.yaml``
    ``coordination.focal_person_kinds``), name, position, e-mail, phone, the
    ppaflow user (of that MOA) when they have one, appointed on (a date),
    ended on (``None``: current).

    Raises:
        NotFound: the MOA, for a user who may not see it; Forbidden: not a
        planning officer or admin; ValidationFailed: per field; Conflict 409
        ``primary_exists``: the MOA has a current primary already.
    """
    try:
        with transaction() as session:
            organization = _organization(user, organization_id)
            require_role(user, MANAGERS, None, "appoint a focal person")
            row = FocalPerson(organization_id=organization.id, organization=organization,
                              **{"position": "", "email": "", "phone": ""} | _focal_values(organization.id, data))
            _check_one_primary(row)
            session.add(row)
            session.flush()
    except Duplicate as exc:
        raise _primary_conflict() from exc
    return row


def get_focal_person_or_raise(user: User, focal_person_id: int, *, for_update: bool = False) -> FocalPerson:
    """The focal person ``focal_person_id``, if ``user`` may see their MOA.

    Raises:
        NotFound: unknown, or of another MOA for an organization-scoped user.
    """
    query = select(FocalPerson).where(FocalPerson.id == focal_person_id)
    if for_update:
        query = query.with_for_update(of=FocalPerson).execution_options(populate_existing=True)
    row = db.session.scalar(query)
    if row is None or not visible_organization(user, row.organization_id):
        raise NotFound(f"focal person {focal_person_id} not found")
    return row


def update_focal_person(user: User, focal_person_id: int, changes: Mapping[str, Any], *,
                        if_match: str | None) -> FocalPerson:
    """Change an appointment's fields (as ``appoint_focal_person``'s), with
    its ETag; setting ``ended_on`` ends it (then another may be primary).

    Raises:
        NotFound, Forbidden, PreconditionFailed (stale), ValidationFailed,
        Conflict 409 ``primary_exists``.
    """
    try:
        with transaction() as session:
            row = get_focal_person_or_raise(user, focal_person_id, for_update=True)
            require_role(user, MANAGERS, None, "change a focal person")
            check_if_match(if_match, row.etag)
            for name, value in _focal_values(row.organization_id, changes, row).items():
                setattr(row, name, value)
            _check_one_primary(row)
            session.flush()
    except Duplicate as exc:
        raise _primary_conflict() from exc
    return row


def list_focal_persons(user: User, organization_id: int, *, current_only: bool = False) -> Select:
    """The focal persons of a MOA (``current_only``: those not ended), by
    kind in ``goals.yaml`` order, then the latest appointment first.

    Raises:
        NotFound: the MOA, for a user who may not see it.
    """
    organization = _organization(user, organization_id)
    query = select(FocalPerson).where(FocalPerson.organization_id == organization.id)
    if current_only:
        query = query.where(FocalPerson.ended_on.is_(None))
    return query.order_by(FocalPerson.ended_on.is_not(None), FocalPerson.kind, FocalPerson.appointed_on.desc(),
                          FocalPerson.id.desc())


def focal_person_view(row: FocalPerson) -> dict[str, Any]:
    """A focal person as the API shows it to those allowed (contacts included)."""
    return {"id": row.id, "organization_id": row.organization_id, "organization": row.organization.code,
            "kind": row.kind, "kind_label": _rules().focal_person_kinds.get(row.kind, row.kind), "name": row.name,
            "position": row.position, "email": row.email, "phone": row.phone, "user_id": row.user_id,
            "appointed_on": row.appointed_on, "ended_on": row.ended_on, "current": row.ended_on is None,
            "version": row.version, "etag": row.etag}


# -- coordination meetings ----------------------------------------------------------------


def _meeting_values(data: Mapping[str, Any], current: CoordinationMeeting | None = None) -> dict[str, Any]:
    """The columns of a meeting, the report's due date defaulted to
    ``coordination.report_lead_days`` calendar days before the meeting."""
    values = {k: v for k, v in data.items() if k in MEETING_FIELDS}
    if "agenda" in values and values["agenda"] is None:
        values["agenda"] = ""
    held = values.get("held_on", current.held_on if current else None)
    if values.get("report_due_on") is None and (current is None or "held_on" in values or "report_due_on" in values):
        try:
            values["report_due_on"] = held - timedelta(days=_rules().report_lead_days)
        except OverflowError as exc:
            raise ValidationFailed({"held_on": ["too early for the report's lead time"]}) from exc
    due = values.get("report_due_on", current.report_due_on if current else None)
    if held is not None and due is not None and due > held:
        raise ValidationFailed({"report_due_on": ["must not be after held_on"]})
    return values


def create_meeting(user: User, data: Mapping[str, Any], organization: str | None = None) -> CoordinationMeeting:
    """A quarterly coordination meeting: of one MOA (``organization``, a
    code) or of all MOAs (``None``), fiscal year, quarter (1-4), the day it
    is held, the day its pre-meeting report is due (default: ``goals.yaml``
    ``coordination.report_lead_days`` before) and its agenda.

    Raises:
        Forbidden: not a planning officer or admin; ValidationFailed: per field.
    """
    with transaction() as session:
        require_role(user, MANAGERS, None, "call a coordination meeting")
        organization_id = None
        if organization:
            found = db.session.scalar(select(Organization).where(Organization.code == organization))
            if found is None:
                raise ValidationFailed({"organization": [f"unknown organization {organization!r}"]})
            organization_id = found.id
        meeting = CoordinationMeeting(organization_id=organization_id, created_by_id=user.id,
                                      **{"agenda": ""} | _meeting_values(data))
        session.add(meeting)
        session.flush()
    return meeting


def _visible_meetings(user: User):
    if sees_all_organizations(user):
        return CoordinationMeeting.id.is_not(None)
    return or_(CoordinationMeeting.organization_id.is_(None),
               CoordinationMeeting.organization_id == user.organization_id)


def get_meeting_or_raise(user: User, meeting_id: int, *, for_update: bool = False) -> CoordinationMeeting:
    """The meeting ``meeting_id``, if ``user`` may see it (an all-MOA
    meeting: everyone signed in; a MOA's: those who may see the MOA).

    Raises:
        NotFound: unknown, or another MOA's.
    """
    query = select(CoordinationMeeting).where(CoordinationMeeting.id == meeting_id, _visible_meetings(user))
    if for_update:
        query = query.with_for_update(of=CoordinationMeeting).execution_options(populate_existing=True)
    meeting = db.session.scalar(query)
    if meeting is None:
        raise NotFound(f"coordination meeting {meeting_id} not found")
    return meeting


def update_meeting(user: User, meeting_id: int, changes: Mapping[str, Any], *,
                   if_match: str | None) -> CoordinationMeeting:
    """Change a meeting's date, quarter, due date or agenda, with its ETag
    (a new ``held_on`` without ``report_due_on`` moves the due date with it).

    Raises:
        NotFound, Forbidden, PreconditionFailed, ValidationFailed.
    """
    with transaction():
        meeting = get_meeting_or_raise(user, meeting_id, for_update=True)
        require_role(user, MANAGERS, None, "change a coordination meeting")
        check_if_match(if_match, meeting.etag)
        for name, value in _meeting_values(changes, meeting).items():
            setattr(meeting, name, value)
    return meeting


def list_meetings(user: User, fiscal_year: int | None = None) -> Select:
    """The meetings ``user`` may see, the latest first."""
    query = select(CoordinationMeeting).where(_visible_meetings(user))
    if fiscal_year:
        query = query.where(CoordinationMeeting.fiscal_year == fiscal_year)
    return query.order_by(CoordinationMeeting.held_on.desc(), CoordinationMeeting.id.desc())


def meeting_view(meeting: CoordinationMeeting) -> dict[str, Any]:
    """A meeting as the API shows it."""
    return {"id": meeting.id, "organization": meeting.organization.code if meeting.organization else None,
            "fiscal_year": meeting.fiscal_year, "quarter": meeting.quarter, "held_on": meeting.held_on,
            "report_due_on": meeting.report_due_on, "agenda": meeting.agenda,
            "quarter_ends_on": quarter_end(meeting.fiscal_year, meeting.quarter),
            "version": meeting.version, "etag": meeting.etag}


def visible_organizations(user: User) -> list[Organization]:
    """The organizations whose focal persons ``user`` may read, by code (a
    MOA's own staff: their MOA only)."""
    query = select(Organization).order_by(Organization.code)
    if not sees_all_organizations(user):
        query = query.where(Organization.id == user.organization_id)
    return list(db.session.scalars(query))


def _count(query: Select) -> int:
    return int(db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def pre_meeting_report(user: User, meeting_id: int) -> dict[str, Any]:
    """The pre-meeting report of a meeting (docs/design.md §16), from
    ppaflow's own figures, for the meeting's MOA or each MOA with PPAs of
    the fiscal year that ``user`` may see:

    - each PPA of the fiscal year: budget allocation; allotted, obligated
      and disbursed as of the quarter's last day (the MFBM report's
      postings, ``services.mfbm.ppa_money``); physical progress and
      status (as they stand: ppaflow keeps no progress history); approval
      stage;
    - per MOA: those sums, the needs forwarded to it still awaiting its
      answer and those it addressed (``services.needs.list_needs``), and its
      open alerts (``services.alerts.list_alerts``).

    Returns ``{meeting, as_of, moas: [{moa, organization_id, name, ppas: [...], totals,
    needs_forwarded, needs_addressed, open_alerts}]}``, amounts ``Decimal``.

    Raises:
        NotFound: the meeting, for a user who may not see it.
    """
    meeting = get_meeting_or_raise(user, meeting_id)
    as_of = quarter_end(meeting.fiscal_year, meeting.quarter)
    moa = meeting.organization.code if meeting.organization else None
    rows = mfbm.ppa_money(user, meeting.fiscal_year, moa, as_of)
    codes = [moa] if moa else list(dict.fromkeys(ppa.organization.code for ppa, _ in rows))
    known = {code: (organization_id, name) for code, organization_id, name in db.session.execute(
        select(Organization.code, Organization.id, Organization.name).where(Organization.code.in_(codes)))}
    moas = []
    for code in codes:
        ppas = [{"id": ppa.id, "program_code": ppa.program_code, "title": ppa.title,
                 "approval_status": ppa.approval_status, "status": ppa.status, "progress": ppa.progress,
                 "budget": ppa.budget_allocation, **money}
                for ppa, money in rows if ppa.organization.code == code]
        totals = {key: sum((p[key] for p in ppas), ZERO)
                  for key in ("budget", "allotted", "obligated", "disbursed")}
        organization_id, name = known[code]
        moas.append({"moa": code, "organization_id": organization_id, "name": name, "ppas": ppas, "totals": totals,
                     "needs_forwarded": _count(needs.list_needs(user, needs.NeedFilters(moa=code, status="forwarded"))),
                     "needs_addressed": _count(needs.list_needs(user, needs.NeedFilters(moa=code, status="addressed"))),
                     "open_alerts": _count(alerts.list_alerts(user, alerts.AlertFilters(status="open", moa=code)))})
    return {"meeting": meeting_view(meeting), "as_of": as_of, "moas": moas}


#: The columns of the pre-meeting report workbook: (header, key, number format).
REPORT_COLUMNS = (("MOA", "moa", None), ("PPA ID", "id", "0"), ("Program Code", "program_code", None),
                  ("Title", "title", None), ("Approval Stage", "approval_status", None), ("Status", "status", None),
                  ("Progress %", "progress", "0"), ("Budget", "budget", "#,##0.00"),
                  ("Allotted", "allotted", "#,##0.00"), ("Obligated", "obligated", "#,##0.00"),
                  ("Disbursed", "disbursed", "#,##0.00"))


def report_workbook(report: dict[str, Any]) -> bytes:
    """The pre-meeting report as an xlsx workbook: one row per PPA, a total
    row per MOA with its needs and open alerts; every text through
    ``services.workbooks.put`` (inert)."""
    meeting = report["meeting"]
    wb = Workbook()
    ws = wb.active
    ws.title = "Pre-meeting report"
    put(ws, 1, 1, f"Pre-meeting report: FY {meeting['fiscal_year']} Q{meeting['quarter']} coordination meeting "
                  f"of {meeting['held_on'].isoformat()}").font = Font(bold=True, size=13)
    put(ws, 2, 1, f"Money as of {report['as_of'].isoformat()}; progress and status as they stand")
    for column, (header, _, _) in enumerate(REPORT_COLUMNS, start=1):
        put(ws, 4, column, header).font = Font(bold=True)
    headers_more = ("Needs forwarded", "Needs addressed", "Open alerts")
    for offset, header in enumerate(headers_more):
        put(ws, 4, len(REPORT_COLUMNS) + 1 + offset, header).font = Font(bold=True)
    row = 5
    for moa in report["moas"]:
        for ppa in moa["ppas"]:
            for column, (_, key, fmt) in enumerate(REPORT_COLUMNS, start=1):
                cell = put(ws, row, column, moa["moa"] if key == "moa" else ppa[key])
                if fmt:
                    cell.number_format = fmt
            row += 1
        put(ws, row, 1, moa["moa"]).font = Font(bold=True)
        put(ws, row, 4, f"Total {moa['name']}").font = Font(bold=True)
        for column, (_, key, fmt) in enumerate(REPORT_COLUMNS, start=1):
            if key in moa["totals"]:
                put(ws, row, column, moa["totals"][key]).number_format = fmt
        for offset, key in enumerate(("needs_forwarded", "needs_addressed", "open_alerts")):
            put(ws, row, len(REPORT_COLUMNS) + 1 + offset, moa[key])
        row += 2
    return workbook_bytes(wb)


# -- privacy (docs/design.md §14, "Consent, retention and erasure") --------------------------


@privacy.eraser
def erase_focal_person_contacts(session, user_id: int, dry_run: bool) -> dict[str, int]:
    """A person's entries in the focal-person registry lose their e-mail,
    phone and link to the account; the appointment itself (name, kind,
    dates) stays, as a public officer's record."""
    theirs = FocalPerson.user_id == user_id
    if dry_run:
        return {"focal_person_contacts": session.scalar(select(func.count()).select_from(FocalPerson)
                                                        .where(theirs)) or 0}
    return {"focal_person_contacts": session.execute(
        update(FocalPerson).where(theirs).values(email="", phone="", user_id=None, version=FocalPerson.version + 1)
        .execution_options(synchronize_session=False)).rowcount}
