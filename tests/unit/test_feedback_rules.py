"""``feedback.yaml`` (issue 15 item 3, docs/design.md §14 "Feedback"): the
photo limits load from the shipped file, a mistake is named by line, and
without the file the documented defaults apply."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rules import DEFAULT_RULES_DIR
from rules.kinds.feedback import DEFAULT_FEEDBACK_RULES, FeedbackRules
from tests.support import shipped_rules as load_rules
from workflow.errors import RulesError


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def test_the_shipped_file_accepts_jpeg_and_png_up_to_5_mib_and_5_photos():
    rules = load_rules().feedback

    assert rules == FeedbackRules(photo_max_bytes=5 * 1024 * 1024, photo_types=("jpeg", "png"),
                                  max_photos_per_feedback=5)
    assert rules.media_types == ("image/jpeg", "image/png")


def test_an_unknown_photo_type_and_a_size_of_nothing_are_named_by_line(rules_dir):
    path = rules_dir / "feedback.yaml"
    text = path.read_text()
    path.write_text(text.replace("photo_types: [jpeg, png]", "photo_types: [jpeg, tiff]")
                    .replace("photo_max_bytes: 5242880", "photo_max_bytes: 0"))
    lines = {key: text[: text.index(key)].count("\n") + 1 for key in ("photo_types:", "photo_max_bytes:")}

    with pytest.raises(RulesError) as caught:
        load_rules(rules_dir)

    errors = caught.value.errors
    assert any(f"feedback.yaml:{lines['photo_types:']}:" in e and "tiff" in e for e in errors)
    assert any(f"feedback.yaml:{lines['photo_max_bytes:']}:" in e for e in errors)


def test_without_the_file_the_defaults_apply(rules_dir):
    (rules_dir / "feedback.yaml").unlink()

    assert load_rules(rules_dir).feedback == DEFAULT_FEEDBACK_RULES
