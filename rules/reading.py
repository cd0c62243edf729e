"""The shared reading machinery of every rule file (docs/design.md §6):
YAML parsing with lines, typed accessors that collect errors instead of
raising, and the checks every file gets (UTF-8, NUL, anchors and aliases,
duplicate keys).

Each rule-file kind (``rules.kinds``) reads its document through a
``FileReader``; the loader (``rules.loader``) collects every error of every
file and reports them all at once as ``file:line: message``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""An identifier in a rule file: lower-case letters, digits and underscores."""

HUNDRED = Decimal(100)

#: One recorded problem: (file as shown, 1-based line, message).
Error = tuple[str, int, str]


@dataclass(frozen=True)
class Item:
    """A YAML value and the 1-based line it starts on."""

    value: Any
    line: int


class FileReader:
    """Typed accessors over one YAML document that record errors instead of
    raising, so that every problem of every file can be reported at once.

    Args:
        path: the file as messages show it (the rule set's folder included).
        errors: where errors are recorded, shared by every file of a load.
        file: the file's path inside the rule set (``workflows/approval.yaml``).
        warnings: where warnings are recorded (problems that do not stop the
            set loading, shown by ``rules check``); a list of its own if not given.
    """

    def __init__(self, path: str, errors: list[Error], file: str | None = None,
                 warnings: list[Error] | None = None):
        self.path = path
        self.file = file or path
        self._errors = errors
        self._warnings = warnings if warnings is not None else []

    def error(self, line: int, message: str) -> None:
        """Record ``path:line: message``."""
        self._errors.append((self.path, max(line, 1), message))

    def warn(self, line: int, message: str) -> None:
        """Record ``path:line: message`` as a warning: the set still loads."""
        self._warnings.append((self.path, max(line, 1), message))

    # -- containers --------------------------------------------------------
    def fields(
        self, item: Item, where: str, required: Iterable[str] = (), optional: Iterable[str] = ()
    ) -> dict[str, Item] | None:
        """Check that ``item`` is a mapping with exactly the allowed keys.

        Returns ``{key: Item(value, line)}`` for the known keys present, or
        ``None`` when ``item`` is not a mapping. Unknown keys and missing
        required keys are recorded as errors.
        """
        if not isinstance(item.value, CommentedMap):
            self.error(item.line, f"{where}: expected a mapping, got {describe(item.value)}")
            return None
        required, optional = tuple(required), tuple(optional)
        allowed = set(required) | set(optional)
        out: dict[str, Item] = {}
        for key, value_item, key_line in self.entries(item):
            if key not in allowed:
                self.error(key_line, f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
                                     f"{did_you_mean(key, allowed)}")
                continue
            out[key] = value_item
        for key in required:
            if key not in out:
                self.error(item.line, f"{where}: missing required key {key!r}")
        return out

    def entries(self, item: Item) -> list[tuple[str, Item, int]]:
        """``(key, Item(value, value_line), key_line)`` for each mapping entry."""
        mapping = item.value
        out = []
        for key in mapping:
            key_line = mapping.lc.key(key)[0] + 1
            value_line = mapping.lc.value(key)[0] + 1
            out.append((str(key), Item(mapping[key], value_line), key_line))
        return out

    def mapping(self, item: Item, where: str) -> list[tuple[str, Item, int]]:
        """Entries of a mapping with free-form keys (e.g. stage names)."""
        if not isinstance(item.value, CommentedMap):
            self.error(item.line, f"{where}: expected a mapping, got {describe(item.value)}")
            return []
        return self.entries(item)

    def sequence(self, item: Item, where: str) -> list[Item]:
        """Items of a YAML list, each with its line."""
        if not isinstance(item.value, CommentedSeq):
            self.error(item.line, f"{where}: expected a list, got {describe(item.value)}")
            return []
        seq = item.value
        return [Item(v, seq.lc.item(i)[0] + 1) for i, v in enumerate(seq)]

    # -- scalars -----------------------------------------------------------
    def text(self, item: Item, where: str) -> str | None:
        """A non-empty string."""
        if not isinstance(item.value, str) or not item.value.strip():
            self.error(item.line, f"{where}: expected a non-empty string, got {describe(item.value)}")
            return None
        return str(item.value)

    def name(self, item: Item, where: str) -> str | None:
        """An identifier: lower-case letters, digits and underscores."""
        value = self.text(item, where)
        if value is not None and not NAME.fullmatch(value):
            self.error(item.line, f"{where}: {value!r} is not a valid name (use lower_case_with_underscores)")
            return None
        return value

    def names(self, item: Item, where: str) -> list[Item]:
        """One name or a list of names, each with its line."""
        if isinstance(item.value, CommentedSeq):
            out = []
            for element in self.sequence(item, where):
                value = self.name(element, where)
                if value is not None:
                    out.append(Item(value, element.line))
            return out
        value = self.name(item, where)
        return [Item(value, item.line)] if value is not None else []

    def boolean(self, item: Item, where: str) -> bool | None:
        """``true`` or ``false``."""
        if not isinstance(item.value, bool):
            self.error(item.line, f"{where}: expected true or false, got {describe(item.value)}")
            return None
        return item.value

    def integer(self, item: Item, where: str, minimum: int | None = None, maximum: int | None = None) -> int | None:
        """A whole number within ``[minimum, maximum]``."""
        value = item.value
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(item.line, f"{where}: expected a whole number, got {describe(value)}")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            self.error(item.line, f"{where}: {value} is out of range (must be {bounds})")
            return None
        return int(value)


    def decimal(self, item: Item, where: str, minimum: Decimal, maximum: Decimal) -> Decimal | None:
        """A number (integer or decimal) within ``[minimum, maximum]``, exact."""
        value = item.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(item.line, f"{where}: expected a number, got {describe(value)}")
            return None
        number = Decimal(str(value))
        if not number.is_finite() or not minimum <= number <= maximum:
            self.error(item.line, f"{where}: {value} is out of range (must be between {minimum} and {maximum})")
            return None
        return number


def describe(value: Any) -> str:
    """A short description of a YAML value's type, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq):
        return "a list"
    if isinstance(value, str):
        return f"string {value[:40]!r}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    return type(value).__name__


def did_you_mean(name: object, known: object) -> str:
    """``"; did you mean 'budget_review'?"`` when ``known`` (any iterable of
    names) holds a name close to ``name`` (``difflib.get_close_matches``),
    else ``""``: the end of an "unknown ..." message. A container that
    cannot be listed (every name, when roles.yaml failed) suggests nothing."""
    if not isinstance(name, str) or not isinstance(known, Iterable):
        return ""
    try:
        candidates = sorted({str(k) for k in known} - {name})
    except TypeError:
        return ""
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def known_roles(r: FileReader, item: Item | None, where: str, roles: Container[str]) -> tuple[str, ...]:
    """A list of role names, each checked against the declared ``roles``."""
    out = []
    for role in r.names(item, where) if item is not None else []:
        if role.value not in roles:
            r.error(role.line, f"{where}: unknown role {role.value!r}{did_you_mean(role.value, roles)}")
        else:
            out.append(role.value)
    return tuple(out)


def parse(reader: FileReader, data: bytes) -> Item | None:
    """Decode and parse one file; syntax errors and duplicate keys are
    recorded on ``reader``. Returns the top-level document or ``None``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reader.error(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")
        return None
    if "\0" in text:
        reader.error(text[: text.index("\0")].count("\n") + 1, "contains a NUL character")
        return None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        anchors = anchors_and_aliases(yaml, text)
        for line, message in anchors:
            reader.error(line, message)
        if anchors:
            return None
        node = yaml.compose(text)
        duplicates = duplicate_keys(node) if node is not None else []
        for line, key in duplicates:
            reader.error(line, f"duplicate key {key!r}")
        doc = yaml.load(text)
    except RecursionError:
        reader.error(1, "nesting too deep")
        return None
    except Exception as exc:  # ruamel raises many classes; every one becomes file:line
        reader.error(*yaml_problem(exc, text))
        return None
    if not isinstance(doc, CommentedMap):
        reader.error(1, f"expected a mapping at the top level, got {describe(doc)}")
        return None
    return Item(doc, 1)


def anchors_and_aliases(yaml: YAML, text: str) -> list[tuple[int, str]]:
    """``(line, message)`` for every anchor (``&name``) and alias (``*name``,
    also in a merge key ``<<: *name``) of the document.

    Rule files may use neither: nested aliases let a file of a few kilobytes
    expand to millions of nodes (the "billion laughs"), and a value defined
    once and used in many places would give every error the line of its
    definition. Scanned from the parser's events, before anything is built,
    so the check costs one pass over the text.
    """
    found = []
    for event in yaml.parse(text):
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            found.append((line, f"alias *{event.anchor}: rule files may not use YAML aliases; write the value out"))
        elif isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.anchor:
            found.append((line, f"anchor &{event.anchor}: rule files may not use YAML anchors and aliases; "
                                "write the value out"))
    return found


def duplicate_keys(root: Node) -> list[tuple[int, str]]:
    """``(line, key)`` for every repeated key in any mapping of the document."""
    found = []
    stack: list[Node] = [root]
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # aliases may share nodes
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                key = str(getattr(key_node, "value", ""))
                if key in keys:
                    found.append((key_node.start_mark.line + 1, key))
                keys.add(key)
                stack.extend((key_node, value_node))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return sorted(found)


#: Flow brackets: opener -> closer.
BRACKETS = {"[": "]", "{": "}"}


def yaml_problem(exc: Exception, text: str) -> tuple[int, str]:
    """``(line, sentence)`` for a ruamel.yaml parse error of ``text``: the
    parser's message translated into plain words a rule author can act on
    (docs/design.md §6, "Checks"), on the line to fix: indentation, tabs, a
    missing colon, an unclosed quote or bracket, a value that needs quotes.
    Where no translation applies, the parser's own words are kept as a hint.
    Never raises."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    if mark is None and isinstance(exc, ValueError):
        impossible = _impossible_date(text)
        if impossible is not None:
            return impossible
    line = mark.line + 1 if mark is not None else 1
    problem = str(getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0])
    try:
        translated = _translate(problem, str(getattr(exc, "context", None) or ""), problem_mark, context_mark,
                                text.splitlines())
    except Exception:  # noqa: BLE001 -- a translation is a courtesy: never lose the error to it
        translated = None
    if translated is not None:
        return max(translated[0], 1), translated[1]
    return line, f"this is not valid YAML (the parser says: {problem})"


#: A plain YAML date (``2026-02-30``): the parser builds a date of it, and fails when there is no such day.
_DATE_VALUE = re.compile(r"(?:^|[\s:\[,-])([0-9]{4})-([0-9]{2})-([0-9]{2})\s*(?:#.*)?(?=$|[,\]])")


def _impossible_date(text: str) -> tuple[int, str] | None:
    """``(line, sentence)`` for the first value written as a date that is no
    day of the calendar (``2026-02-30``), which the parser refuses without a
    line; ``None`` when there is none."""
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _DATE_VALUE.finditer(line.split(" #")[0]):
            year, month, day = (int(part) for part in match.groups())
            try:
                date(year, month, day)
            except ValueError as exc:
                return number, f"{match.group(1)}-{match.group(2)}-{match.group(3)} is not a day of the calendar ({exc})"
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _meaningful(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _translate(problem: str, context: str, problem_mark: Any, context_mark: Any,
               lines: list[str]) -> tuple[int, str] | None:
    """The plain sentence for one parser error, or ``None``."""
    at = problem_mark.line if problem_mark is not None else None  # 0-based
    where = context_mark.line if context_mark is not None else at

    def text_of(index: int | None) -> str:
        return lines[index] if index is not None and 0 <= index < len(lines) else ""

    def previous(index: int) -> int | None:
        """The nearest line above ``index`` holding something."""
        return next((i for i in range(min(index, len(lines)) - 1, -1, -1) if _meaningful(lines[i])), None)

    if problem.startswith(("found character '\\t'", "found character '\t'")) and at is not None:
        return at + 1, "tabs are not allowed; use spaces"
    character = re.match(r"found character '(.+)' that cannot start any token", problem)
    if character and at is not None:
        return at + 1, f"a value cannot start with {character.group(1)!r}; put the value in quotes"
    if "quoted scalar" in context and "end of stream" in problem and where is not None:
        opening = text_of(where)[context_mark.column:context_mark.column + 1] if context_mark is not None else ""
        quote = opening if opening in ("'", '"') else '"'
        return where + 1, f"the quote {quote} opened on this line is never closed"
    escape = re.match(r"found unknown escape character '(.+)'", problem)
    if escape and at is not None:
        return at + 1, (f"'\\{escape.group(1)}' is not an escape YAML knows inside double quotes; "
                        "use single quotes, or write '\\\\' for a backslash")
    opened_quote = _unclosed_quote(lines, at if at is not None else len(lines))
    if opened_quote is not None:
        index, quote = opened_quote
        return index + 1, f"the quote {quote} opened on this line is never closed"
    if context.startswith("while parsing a flow") or "<stream end>" in problem:
        opened = _unclosed_bracket(lines)
        if opened is not None:
            index, bracket = opened
            return index + 1, f"the {bracket!r} opened on this line is never closed with {BRACKETS[bracket]!r}"
    if problem == "could not find expected ':'" and where is not None:
        key = text_of(where).strip().removeprefix("- ").strip()
        return where + 1, f"a colon is missing after {key[:40]!r}"
    if problem == "mapping values are not allowed here" and at is not None:
        current = text_of(at)
        column = problem_mark.column
        before = current[:column]
        if ": " in before.strip() or before.rstrip().endswith(":"):
            return at + 1, "this line has two ': '; put a value that holds ': ' in quotes"
        above = previous(at)
        if above is not None and ":" not in lines[above] and _indent(lines[above]) <= _indent(current) \
                and not lines[above].lstrip().startswith(("-", "'", '"')):
            return above + 1, f"a colon is missing after {lines[above].strip()[:40]!r}"
        if above is not None and _indent(current) > _indent(lines[above]):
            return at + 1, "this line is indented more than the one above"
        return None
    found = re.match(r"expected <block end>, but found '(.+)'", problem)
    if found and at is not None:
        token = found.group(1)
        above = previous(at)
        if token in ("<block mapping start>", "<block sequence start>") and above is not None:
            if _indent(text_of(at)) < _indent(lines[above]):
                return at + 1, "this line is indented less than the one above but lines up with no key before it"
            return at + 1, "this line is indented more than the one above"
        if token == "-":
            return at + 1, "a list item ('- ') where a key was expected; indent it under the key it belongs to"
        if token == "<scalar>":
            return at + 1, "text follows a closing quote; put the whole value inside the quotes"
    return None


#: A value opening with a quote: after ``key:``, ``- ``, ``[`` or ``,``.
QUOTED_VALUE = re.compile(r"""(?:^\s*|:\s+|-\s+|[\[{,]\s*)(["'])""")


def _unclosed_quote(lines: list[str], before: int) -> tuple[int, str] | None:
    """``(0-based line, quote)`` of the first line above ``before`` (0-based)
    whose quoted value does not close on that line: in a rule file a value
    in quotes fits on one line, so such a quote is almost always a missing
    closing one, which the parser only notices at the next quote, lines on."""
    for index, line in enumerate(lines[: before]):
        if not _meaningful(line):
            continue
        match = QUOTED_VALUE.search(line)
        if match is None:
            continue
        quote, rest = match.group(1), line[match.end():]
        closing = re.search(r'(?<!\\)"' if quote == '"' else r"'(?!')", rest.replace("''", ""))
        if closing is None:
            return index, quote
    return None


def _unclosed_bracket(lines: list[str]) -> tuple[int, str] | None:
    """``(0-based line, bracket)`` of the innermost ``[`` or ``{`` never
    closed in the document, skipping quoted text and comments."""
    stack: list[tuple[int, str]] = []
    quote = ""
    for index, line in enumerate(lines):
        previous_char = " "
        for char in line:
            if quote:
                if char == quote and not (quote == '"' and previous_char == "\\"):
                    quote = ""
            elif char in "'\"" and (previous_char in " \t[{,:" ):
                quote = char
            elif char == "#" and previous_char in " \t":
                break
            elif char in BRACKETS:
                stack.append((index, char))
            elif char in "]}" and stack and BRACKETS[stack[-1][1]] == char:
                stack.pop()
            previous_char = char
    return stack[-1] if stack else None
