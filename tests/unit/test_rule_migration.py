"""Where records stand under a new rule set (``rules.migration``, issue 14
item 2, docs/design.md §13): pure, on hand-made machines."""

from __future__ import annotations

import pytest

from rules.migration import parse_mapping, plan_moves
from rules.model import MachineRules, State, Transition


def machine(*edges: tuple[str, str, str], roles: tuple[str, ...] = ("reviewer",)) -> MachineRules:
    names = ["draft"] + sorted({stage for _, source, dest in edges for stage in (source, dest)} - {"draft"})
    return MachineRules(name="approval", initial="draft", states={n: State(n, n.title()) for n in names},
                        transitions=tuple(Transition(trigger, source, dest, roles) for trigger, source, dest in edges))


OLD = machine(("submit", "draft", "review"), ("approve", "review", "consult"), ("approve", "consult", "done"))
NEW = machine(("submit", "draft", "review"), ("approve", "review", "done"))


def test_a_record_in_a_stage_the_new_set_lacks_strands_and_the_refusal_names_it_and_its_stage():
    plan = plan_moves([(1, "a" * 64, "consult", OLD), (2, "a" * 64, "draft", OLD)], "b" * 64, NEW, {})

    assert plan.refused and [(s.record_id, s.stage) for s in plan.stranded] == [(1, "consult")]
    assert plan.refusal() == f"stage consult is not in rule set {'b' * 12} (PPA 1): map it with --map consult=STAGE"
    assert [m.record_id for m in plan.moves] == [2] and not plan.changing  # the draft's next step is the same


def test_a_mapping_moves_the_stranded_record_and_a_changed_next_step_is_listed():
    plan = plan_moves([(1, "a" * 64, "consult", OLD), (3, "a" * 64, "review", OLD)], "b" * 64, NEW,
                      {"consult": "review"})

    assert not plan.refused
    assert [(m.record_id, m.new_stage, m.stage_changes) for m in plan.changing] == [(1, "review", True),
                                                                                      (3, "review", False)]
    assert plan.moves[1].steps_before == {"approve --> consult [reviewer]"}
    assert plan.moves[1].steps_after == {"approve --> done [reviewer]"}


def test_a_mapping_to_a_stage_the_new_set_lacks_is_refused():
    plan = plan_moves([(1, "a" * 64, "consult", OLD)], "b" * 64, NEW, {"consult": "nowhere"})

    assert plan.refused and plan.mapping_errors == ("map consult=nowhere: the new rule set has no stage nowhere",)


@pytest.mark.parametrize("pairs", [["consult"], ["=review"], ["consult=a", "consult=b"]])
def test_a_malformed_map_option_is_refused_in_words(pairs):
    with pytest.raises(ValueError, match="--map"):
        parse_mapping(pairs)
