"""Fuzzing the rules loader (issue 6): whatever bytes a rule file holds, the
loader either loads the set or reports ``file:line: message`` errors; it
never raises anything else."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from rules import DEFAULT_RULES_DIR
from rules.loader import read_rule_files
from tests.support import shipped_rules
from workflow.errors import RulesError

SHIPPED = read_rule_files(DEFAULT_RULES_DIR)
FILES = tuple(SHIPPED)
LINE_ERROR = re.compile(r".+\.ya?ml:[1-9][0-9]*: \S.*")
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_with(name: str, content: bytes):
    """Load the shipped rules with ``name`` replaced by ``content``."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for file_name, data in SHIPPED.items():
            (directory / file_name).parent.mkdir(parents=True, exist_ok=True)
            (directory / file_name).write_bytes(content if file_name == name else data)
        try:
            return shipped_rules(directory)
        except RulesError as exc:
            assert exc.errors, "a RulesError must say what is wrong"
            for line in exc.errors:
                assert LINE_ERROR.fullmatch(line), line
            return exc


files = st.sampled_from(FILES)


@FUZZ
@given(name=files, content=st.binary(max_size=2000))
def test_any_bytes_load_or_give_line_errors(name, content):
    load_with(name, content)


@st.composite
def mutated(draw):
    """A shipped file with a few lines deleted, duplicated, swapped or garbled."""
    name = draw(files)
    lines = SHIPPED[name].decode().splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "garble", "indent"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "swap" and index + 1 < len(lines):
            lines[index], lines[index + 1] = lines[index + 1], lines[index]
        elif action == "garble":
            lines[index] = draw(st.text(max_size=40)) + "\n"
        elif action == "indent":
            lines[index] = " " * draw(st.integers(1, 5)) + lines[index]
    return name, "".join(lines).encode("utf-8", "surrogatepass")


@FUZZ
@given(case=mutated())
def test_mutated_rule_files_load_or_give_line_errors(case):
    load_with(*case)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25)


@FUZZ
@given(name=files, document=yaml_values)
def test_random_yaml_documents_load_or_give_line_errors(name, document):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.yaml"
        with path.open("w") as handle:
            YAML(typ="safe").dump(document, handle)
        load_with(name, path.read_bytes())


def test_a_broken_set_never_half_loads():
    result = load_with("budget.yaml", b"variance: [\n")

    assert isinstance(result, RulesError)
    assert len(result.errors) == 1
    assert re.fullmatch(r".+/budget\.yaml:1: the '\[' opened on this line is never closed with '\]'", result.errors[0])
