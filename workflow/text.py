"""User text: what ppaflow refuses at input and how it writes text out
(docs/design.md §5, §8).

Every text a user sends is stored as sent, but some characters are refused
before anything is stored, because they cannot go everywhere the text goes:

- C0 controls other than tab, line feed and carriage return, and DEL:
  PostgreSQL text cannot hold NUL, and XML (so xlsx) cannot hold the others;
- C1 controls (U+0080-U+009F): invisible, and read as line breaks or escape
  sequences by some terminals and spreadsheet programs;
- lone surrogates (U+D800-U+DFFF) and the Unicode non-characters
  (U+FDD0-U+FDEF and the last two code points of every plane, U+FFFE,
  U+FFFF, U+1FFFE, ...): not legal in XML, so one of them in a title would
  make every workbook it appears in unreadable;
- bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069): they
  make a text display differently from what it is ("Trojan Source").

On the way out, text goes into workbooks as string cells, never formulas
(``services.workbooks``), and into CSV escaped as the OWASP CSV-injection
guidance says (``csv_field``).

Pure: no Flask, no database; the web parser, the services and the CLI call it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))

#: The refused characters of the Basic Multilingual Plane except the lone
#: surrogates, as the inside of a regular-expression class written with
#: escapes: the OpenAPI document's text pattern. Other engines than Python's
#: (the document's readers) cannot name surrogates, nor characters beyond
#: U+FFFF inside a class once a length bound is added to the pattern, so
#: those are refused by ``FORBIDDEN`` alone.
PORTABLE_FORBIDDEN_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff"

#: Every character refused in user text, as one regular-expression class.
FORBIDDEN = re.compile(f"[{PORTABLE_FORBIDDEN_CLASS}\\ud800-\\udfff{_NONCHARACTERS}]")

_KINDS = (
    (re.compile("[\x00-\x1f\x7f]"), "a control character"),
    (re.compile("[\x80-\x9f]"), "a C1 control character"),
    (re.compile("[\ud800-\udfff]"), "a lone surrogate"),
    (re.compile("[\u202a-\u202e\u2066-\u2069]"), "a bidirectional override or isolate"),
)

#: Characters that are invisible when shown alone though not whitespace to
#: ``str.isspace``: fillers and blanks of some scripts (besides every
#: format character, Unicode category Cf, such as U+200B and U+FEFF).
_INVISIBLE = frozenset("\u115f\u1160\u2800\u3164\uffa0\u034f\u180e")

#: First characters that make a spreadsheet read a CSV field as a formula
#: (OWASP "CSV Injection": = + - @ tab carriage return), their full-width
#: forms, line feed, and the single quote itself, so that the escape can
#: always be undone: a field starting with ``'`` had one added.
CSV_FORMULA_STARTS = frozenset("=+-@\t\r\n'\uff1d\uff0b\uff0d\uff20")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or ``None`` when it can.

    Returns:
        A message naming the first refused character and its position, e.g.
        ``"must not contain a bidirectional override or isolate (U+202E at
        position 3)"``; ``None`` for acceptable text.
    """
    if text.isascii() and text.isprintable():  # the usual text, checked in C: FORBIDDEN holds no printable ASCII
        return None
    found = FORBIDDEN.search(text)
    if found is None:
        return None
    character = found.group()
    kind = next((name for pattern, name in _KINDS if pattern.fullmatch(character)), "a Unicode non-character")
    return f"must not contain {kind} (U+{ord(character):04X} at position {found.start() + 1})"


def is_blank(text: str | None) -> bool:
    """Whether ``text`` shows nothing: empty, ``None``, or only whitespace
    (U+00A0 included) and invisible characters (U+200B, U+FEFF, U+2060 and
    the other format characters, Hangul fillers, the blank Braille pattern).

    A required comment must say something (issue 10, item 12)."""
    return not text or all(
        c.isspace() or c in _INVISIBLE or unicodedata.category(c) == "Cf" for c in text)


def printable(text: str) -> str:
    """``text`` with every refused character replaced by U+FFFD, for
    writing out text stored before the input check existed: a workbook
    stays readable whatever the database holds."""
    return FORBIDDEN.sub("\ufffd", text)


def csv_field(value: Any) -> Any:
    """One CSV field, inert in a spreadsheet (OWASP "CSV Injection").

    A string starting with ``=``, ``+``, ``-``, ``@``, tab, carriage return
    (or line feed, a full-width ``=+-@``, or ``'``) gets a single quote in
    front, so that Excel, LibreOffice and Google Sheets show it as text;
    refused characters are replaced (``printable``). Anything else (ids,
    numbers) is returned unchanged. Write the fields with
    ``csv.QUOTE_ALL``, which quotes every field and doubles every ``"``
    (RFC 4180), as OWASP also asks.

    To read the original text back: drop the first character of a field
    that starts with ``'``.
    """
    if not isinstance(value, str):
        return value
    value = printable(value)
    return "'" + value if value[:1] in CSV_FORMULA_STARTS else value
