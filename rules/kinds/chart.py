"""``fund_clusters.yaml`` and ``uacs_object_codes.yaml``: the parts of the
Unified Accounts Code Structure the appropriations use (docs/design.md §12,
"Appropriations"; COA-DBM-DOF Joint Circular 2013-1, COA Circular 2013-002).

Both files are one code table each: a single top-level key mapping codes
(quoted digits) to a value, at least one entry. One reader (``read_codes``)
reads them, each described by a ``CodeTable``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import FundClusters, ObjectCodeClasses, frozen_map
from rules.reading import FileReader, Item, did_you_mean
from workflow.vocabulary import APPROPRIATION_CLASSES

FUND_CLUSTER = re.compile(r"[0-9]{2}")
PREFIX = re.compile(r"[0-9]{1,8}")


@dataclass(frozen=True)
class CodeTable:
    """One code table of the chart of accounts.

    Attributes:
        file: the rule file (``fund_clusters.yaml``).
        key: its one top-level key (``fund_clusters``).
        code: the pattern every code (a key of the mapping) matches.
        not_a_code: how an error names a code that does not match
            (``a two-digit fund cluster code (quote it: "01")``).
        read_value: ``(reader, value, where) -> value or None`` (its error recorded).
        accept: ``(reader, value item, where, value) -> bool``: a read value
            is valid here (its error recorded otherwise); checked only for a
            well-formed code.
        empty: how an error asks for at least one entry.
        build: ``{code: value}`` -> the rule-set model.
    """

    file: str
    key: str
    code: re.Pattern[str]
    not_a_code: str
    read_value: Callable[[FileReader, Item, str], str | None]
    accept: Callable[[FileReader, Item, str, str], bool]
    empty: str
    build: Callable[[Mapping[str, str]], Any]


def read_codes(r: FileReader, doc: Item, table: CodeTable) -> Any | None:
    """A code table: ``table.key`` mapping codes to values, at least one;
    every malformed code and value reported at its line. ``None`` when any is."""
    f = r.fields(doc, table.file, required=[table.key])
    if f is None or table.key not in f:
        return None
    codes, ok = {}, True
    for code, value, line in r.mapping(f[table.key], table.key):
        where = f"{table.key}.{code}"
        read = table.read_value(r, value, where)
        if not table.code.fullmatch(code):
            r.error(line, f"{table.key}: {code!r} is not {table.not_a_code}")
            ok = False
        elif read is None or not table.accept(r, value, where, read):
            ok = False
        else:
            codes[code] = read
    if not codes and ok:
        r.error(f[table.key].line, f"{table.key}: {table.empty}")
        return None
    return table.build(frozen_map(codes)) if ok else None


def _known_class(r: FileReader, value: Item, where: str, cls: str) -> bool:
    """``cls`` is an allotment class (``ps``, ``mooe``, ``finex``, ``co``)."""
    if cls in APPROPRIATION_CLASSES:
        return True
    r.error(value.line, f"{where}: unknown allotment class {cls!r} (known: {', '.join(APPROPRIATION_CLASSES)})"
                        f"{did_you_mean(cls, APPROPRIATION_CLASSES)}")
    return False


#: ``fund_clusters``: two-digit code -> name (at least one).
FUND_CLUSTERS = CodeTable("fund_clusters.yaml", "fund_clusters", FUND_CLUSTER,
                          'a two-digit fund cluster code (quote it: "01")', FileReader.text,
                          lambda r, value, where, name: True, "declare at least one fund cluster", FundClusters)

#: ``object_code_classes``: object-code prefix (digits) -> allotment class
#: (``ps``, ``mooe``, ``finex``, ``co``).
OBJECT_CODES = CodeTable("uacs_object_codes.yaml", "object_code_classes", PREFIX,
                         'a prefix of digits (quote it: "502")', FileReader.name, _known_class,
                         "map at least one prefix", ObjectCodeClasses)


def read_fund_clusters(r: FileReader, doc: Item, context: LoadContext) -> FundClusters | None:
    """``fund_clusters.yaml`` (``FUND_CLUSTERS``)."""
    return read_codes(r, doc, FUND_CLUSTERS)


def read_object_codes(r: FileReader, doc: Item, context: LoadContext) -> ObjectCodeClasses | None:
    """``uacs_object_codes.yaml`` (``OBJECT_CODES``)."""
    return read_codes(r, doc, OBJECT_CODES)


FUND_CLUSTERS_KIND = RuleFileKind(name="fund_clusters", pattern="fund_clusters.yaml", read=read_fund_clusters)
OBJECT_CODES_KIND = RuleFileKind(name="uacs_object_codes", pattern="uacs_object_codes.yaml", read=read_object_codes)
