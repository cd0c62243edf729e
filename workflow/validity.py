"""Periods and validity of appropriations, pure (docs/design.md §12,
"Validity periods and dates"; issue 12 item 2).

Quarters come from dates, year included: a document's period is the
``(year, quarter)`` of its own date (an allotment's release date, an
obligation's ORS date, a disbursement's check/ADA issue date), never a
free field, so an ORS dated 2027 against a FY2026 allotment is in 2027 Q1,
not in FY2026 Q1.

Validity: each fiscal year's appropriations act says until when each
category of appropriation may be released, obligated and disbursed
(``rules/default/validity.yaml``). BARMM's acts change those deadlines
after the fact, so a year holds effective-dated entries, never edited:
the first is the act itself, each later one an amendment with its own
legal basis that restates the categories it changes. The rule in force for
a posting is, for its category, the latest entry effective on or before
the posting's date that names the category (the act itself before any
amendment).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from workflow.errors import OutsideValidity
from workflow.vocabulary import APPROPRIATION_CLASSES

#: Allotment classes (GAAB/GAA and the UACS chart of accounts): Personnel
#: Services, Maintenance and Other Operating Expenses, Financial Expenses,
#: Capital Outlay.
#: The same four as a PPA's appropriation class.
ALLOTMENT_CLASSES = APPROPRIATION_CLASSES

#: Validity categories, each of one allotment class: the act's validity
#: provisions treat MOOE under general administration and support apart
#: from MOOE of operations, and infrastructure capital outlays apart from
#: other capital outlays (issue 12 item 2).
CATEGORY_CLASS = {
    "ps": "ps",
    "mooe_general_administration": "mooe",
    "mooe_operations": "mooe",
    "co_infrastructure": "co",
    "co_other": "co",
    "finex": "finex",
}
VALIDITY_CATEGORIES = tuple(CATEGORY_CLASS)



def categories_of(allotment_class: str) -> tuple[str, ...]:
    """The validity categories of an allotment class (``mooe`` ->
    ``mooe_general_administration``, ``mooe_operations``)."""
    return tuple(c for c, k in CATEGORY_CLASS.items() if k == allotment_class)


#: The category an allotment of a class gets when none is named: a PPA is a
#: program, activity or project, so its MOOE is of operations and its CO is
#: "other" unless the budget analyst names it infrastructure.
DEFAULT_CATEGORY = {"ps": "ps", "mooe": "mooe_operations", "finex": "finex", "co": "co_other"}

#: The steps of the money chain a validity rule gives a deadline for.
STEPS = ("release", "obligation", "disbursement")

#: How the steps read in messages.
STEP_WORDS = {"release": "released", "obligation": "obligated", "disbursement": "disbursed"}

#: How the categories read in messages.
CATEGORY_WORDS = {
    "ps": "PS",
    "mooe_general_administration": "MOOE (general administration and support)",
    "mooe_operations": "MOOE (operations)",
    "co_infrastructure": "infrastructure CO",
    "co_other": "other CO",
    "finex": "FinEx",
}


def quarter_of(day: date) -> int:
    """The calendar quarter (1–4) of ``day``: January–March is 1."""
    return (day.month - 1) // 3 + 1


def period_of(day: date) -> tuple[int, int]:
    """``(year, quarter)`` of ``day``: the period a document dated ``day``
    counts in (docs/design.md §12)."""
    return day.year, quarter_of(day)


@dataclass(frozen=True)
class Deadlines:
    """The last day a category's appropriation may be released, obligated
    and disbursed. ``disbursement`` is ``None`` for "until fully expended"."""

    release: date
    obligation: date
    disbursement: date | None

    def of(self, step: str) -> date | None:
        """The deadline of ``step`` (``release``, ``obligation``, ``disbursement``)."""
        return getattr(self, step)


@dataclass(frozen=True)
class ValidityEntry:
    """One entry under a fiscal year: the act (first) or an amendment.

    Attributes:
        effective_from: the day the entry takes effect.
        legal_basis: the act and section, e.g. "BAA No. 32, Sec. 48".
        deadlines: category -> its deadlines; the act names every category,
            an amendment those it changes.
    """

    effective_from: date
    legal_basis: str
    deadlines: Mapping[str, Deadlines]


@dataclass(frozen=True)
class ValidityRule:
    """The rule in force for one category of one fiscal year on one day."""

    fiscal_year: int
    category: str
    deadlines: Deadlines
    legal_basis: str
    effective_from: date

    @property
    def name(self) -> str:
        """The rule as messages name it: "FY2022 MOOE (operations) validity"."""
        return f"FY{self.fiscal_year} {CATEGORY_WORDS[self.category]} validity"


@dataclass(frozen=True)
class ValidityRules:
    """Every fiscal year's validity (``validity.yaml``).

    Attributes:
        years: fiscal year -> its entries, the act first, then the
            amendments by effective date.
    """

    years: Mapping[int, tuple[ValidityEntry, ...]]

    def rule_for(self, fiscal_year: int, category: str, on: date) -> ValidityRule | None:
        """The rule in force for ``category`` of ``fiscal_year`` on ``on``:
        the latest entry effective on or before ``on`` naming the category
        (the act itself before its first amendment); ``None`` when the year
        has no entry."""
        entries = self.years.get(fiscal_year)
        if not entries:
            return None
        chosen = entries[0]
        for entry in entries[1:]:
            if entry.effective_from <= on and category in entry.deadlines:
                chosen = entry
        return ValidityRule(fiscal_year, category, chosen.deadlines[category], chosen.legal_basis,
                            chosen.effective_from)

    def check(self, fiscal_year: int, category: str, step: str, posted_on: date) -> ValidityRule:
        """Refuse a ``step`` (release, obligation, disbursement) of
        ``category`` of ``fiscal_year`` dated ``posted_on`` unless it falls
        in the validity in force on that day.

        Returns:
            The rule it was checked against.

        Raises:
            OutsideValidity: dated before 1 January of the fiscal year, after
                the step's deadline, or the year has no validity rule.
        """
        what = f"this {step} of FY{fiscal_year} {CATEGORY_WORDS[category]}"
        rule = self.rule_for(fiscal_year, category, posted_on)
        extra = {"fiscal_year": fiscal_year, "category": category, "step": step}
        if rule is None:
            raise OutsideValidity(f"{what} cannot be posted: validity.yaml has no rule for FY{fiscal_year}",
                                  **extra)
        extra |= {"legal_basis": rule.legal_basis}
        start = date(fiscal_year, 1, 1)
        if posted_on < start:
            raise OutsideValidity(
                f"{what} cannot be dated {posted_on.isoformat()}, before the fiscal year begins on "
                f"{start.isoformat()} ({rule.name}, {rule.legal_basis})", **extra)
        deadline = rule.deadlines.of(step)
        if deadline is not None and posted_on > deadline:
            raise OutsideValidity(
                f"{what} dated {posted_on.isoformat()} is outside its validity: under the {rule.name} it may "
                f"be {STEP_WORDS[step]} until {deadline.isoformat()} ({rule.legal_basis})",
                **extra, deadline=deadline.isoformat())
        return rule
