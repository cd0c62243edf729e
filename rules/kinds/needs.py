"""``needs.yaml`` and ``psgc_barmm.yaml``: the vocabularies of community
needs and the places they may name (docs/design.md §14; issue 15).

``needs.yaml``: ``categories``, ``urgencies``, ``submission_types`` (each a
mapping name -> label, at least one) and ``stakeholder_types`` (name ->
``{label, weight}``, weight a whole number 1-100), and optionally
``privacy`` (issue 15 item 7): ``{notice_version, notice, retention_years}``,
the version a string, the notice a non-empty text of at most 1,000
characters, the retention a whole number of years from 1 to 100.

``psgc_barmm.yaml``: ``region`` (``{code, name}``) and ``provinces``:
10-digit PSGC code -> ``{name, municipalities: {code: name}}``; every code
is 10 digits, a municipality's first five digits are its province's.
"""

from __future__ import annotations

import re

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import NeedRules, Places, PrivacyRules, frozen_map
from rules.reading import FileReader, Item

PSGC = re.compile(r"[0-9]{10}")
LABELLED = ("categories", "urgencies", "submission_types")


def _labels(r: FileReader, item: Item, where: str) -> dict[str, str] | None:
    """A mapping name -> label, at least one entry."""
    out, ok = {}, True
    entries = r.mapping(item, where)
    for key, value, line in entries:
        label = r.text(value, f"{where}.{key}")
        if r.name(Item(key, line), where) is None or label is None:
            ok = False
        else:
            out[key] = label
    if not entries:
        r.error(item.line, f"{where}: name at least one")
        ok = False
    return out if ok else None


def _privacy(r: FileReader, item: Item) -> PrivacyRules | None:
    """``privacy``: the notice (version, text) and the retention in years."""
    g = r.fields(item, "privacy", required=("notice_version", "notice", "retention_years"))
    if g is None or len(g) < 3:
        return None
    version = r.text(Item(str(g["notice_version"].value), g["notice_version"].line), "privacy.notice_version")
    notice = r.text(g["notice"], "privacy.notice")
    years = r.integer(g["retention_years"], "privacy.retention_years", 1, 100)
    if notice is not None and len(notice) > 1000:
        r.error(g["notice"].line, "privacy.notice: at most 1,000 characters (link to the full notice instead)")
        notice = None
    if version is None or notice is None or years is None:
        return None
    return PrivacyRules(notice_version=version[:20], notice=" ".join(notice.split()), retention_years=years)


def _milestones(r: FileReader, item: Item) -> tuple[int, ...] | None:
    """``vote_milestones``: whole vote counts 1-1,000,000, strictly ascending."""
    values = [r.integer(element, "vote_milestones", 1, 1_000_000) for element in r.sequence(item, "vote_milestones")]
    if None in values:
        return None
    if values != sorted(set(values)):
        r.error(item.line, "vote_milestones: list each count once, smallest first")
        return None
    return tuple(values)


def read_needs(r: FileReader, doc: Item, context: LoadContext) -> NeedRules | None:
    """``needs.yaml`` (see the module's docstring)."""
    f = r.fields(doc, "needs.yaml", required=(*LABELLED, "stakeholder_types"), optional=("privacy", "vote_milestones"))
    if f is None or any(key not in f for key in (*LABELLED, "stakeholder_types")):
        return None
    read = {key: _labels(r, f[key], key) for key in LABELLED}
    labels, weights, ok = {}, {}, all(value is not None for value in read.values())
    for key, value, line in r.mapping(f["stakeholder_types"], "stakeholder_types"):
        where = f"stakeholder_types.{key}"
        g = r.fields(value, where, required=("label", "weight"))
        if r.name(Item(key, line), "stakeholder_types") is None or g is None or len(g) < 2:
            ok = False
            continue
        label, weight = r.text(g["label"], f"{where}.label"), r.integer(g["weight"], f"{where}.weight", 1, 100)
        if label is None or weight is None:
            ok = False
            continue
        labels[key], weights[key] = label, weight
    privacy = _privacy(r, f["privacy"]) if "privacy" in f else PrivacyRules()
    milestones = _milestones(r, f["vote_milestones"]) if "vote_milestones" in f else NeedRules.vote_milestones
    if not ok or privacy is None or milestones is None:
        return None
    return NeedRules(privacy=privacy, vote_milestones=milestones, categories=frozen_map(read["categories"]), urgencies=frozen_map(read["urgencies"]),
                     submission_types=frozen_map(read["submission_types"]), stakeholder_types=frozen_map(labels),
                     weights=frozen_map(weights))


def _code(r: FileReader, code: str, line: int, where: str) -> bool:
    if PSGC.fullmatch(code):
        return True
    r.error(line, f"{where}: {code!r} is not a 10-digit PSGC code (quote it: \"1900700000\")")
    return False


def read_places(r: FileReader, doc: Item, context: LoadContext) -> Places | None:
    """``psgc_barmm.yaml`` (see the module's docstring)."""
    f = r.fields(doc, "psgc_barmm.yaml", required=("region", "provinces"))
    if f is None or "provinces" not in f or "region" not in f:
        return None
    ok = r.fields(f["region"], "region", required=("code", "name")) is not None
    provinces: dict[str, str] = {}
    municipalities: dict[str, tuple[str, str]] = {}
    for code, value, line in r.mapping(f["provinces"], "provinces"):
        where = f"provinces.{code}"
        g = r.fields(value, where, required=("name",), optional=("municipalities",))
        name = r.text(g["name"], f"{where}.name") if g and "name" in g else None
        if not _code(r, code, line, "provinces") or name is None:
            ok = False
            continue
        provinces[code] = name
        for m_code, m_value, m_line in (r.mapping(g["municipalities"], f"{where}.municipalities")
                                        if "municipalities" in g else []):
            m_name = r.text(m_value, f"{where}.municipalities.{m_code}")
            if not _code(r, m_code, m_line, f"{where}.municipalities") or m_name is None:
                ok = False
            elif m_code[:5] != code[:5]:
                r.error(m_line, f"{where}.municipalities: {m_code} is not inside province {code}")
                ok = False
            else:
                municipalities[m_code] = (m_name, code)
    if not provinces and ok:
        r.error(f["provinces"].line, "provinces: list at least one")
        ok = False
    return Places(frozen_map(provinces), frozen_map(municipalities)) if ok else None


NEEDS_KIND = RuleFileKind(name="needs", pattern="needs.yaml", read=read_needs)
PLACES_KIND = RuleFileKind(name="psgc_barmm", pattern="psgc_barmm.yaml", read=read_places)
