"""``feedback.yaml``: what community feedback on completed PPAs accepts
(docs/design.md §14 "Feedback"; issue 15 item 3). Optional: a rule set
without it gets ``DEFAULT_FEEDBACK_RULES`` (photos up to 5 MiB, JPEG or PNG,
five per feedback)."""

from __future__ import annotations

from dataclasses import dataclass

from rules.kinds.base import FileRead, LoadContext, RuleFileKind
from rules.reading import FileReader, Item

#: The photo types feedback may accept, by name -> media type (found in the content).
PHOTO_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class FeedbackRules:
    """Limits of the photos of a feedback.

    Attributes:
        photo_max_bytes: the largest photo accepted, in bytes (as uploaded).
        photo_types: accepted names of ``PHOTO_TYPES`` (``jpeg``, ``png``).
        max_photos_per_feedback: photos one feedback may carry.
    """

    photo_max_bytes: int = 5 * 1024 * 1024
    photo_types: tuple[str, ...] = ("jpeg", "png")
    max_photos_per_feedback: int = 5

    @property
    def media_types(self) -> tuple[str, ...]:
        """The accepted media types (``image/jpeg``, ...)."""
        return tuple(PHOTO_TYPES[name] for name in self.photo_types)


DEFAULT_FEEDBACK_RULES = FeedbackRules()


def read_feedback(r: FileReader, doc: Item, context: LoadContext) -> FeedbackRules | None:
    """Read ``feedback.yaml`` (every key optional; see the module docstring)."""
    f = r.fields(doc, "feedback.yaml", required=[],
                 optional=["photo_max_bytes", "photo_types", "max_photos_per_feedback"])
    if f is None:
        return None
    ok, values = True, {}
    if "photo_max_bytes" in f:
        values["photo_max_bytes"] = r.integer(f["photo_max_bytes"], "photo_max_bytes", 1, 100 * 1024 * 1024)
        ok = ok and values["photo_max_bytes"] is not None
    if "max_photos_per_feedback" in f:
        values["max_photos_per_feedback"] = r.integer(f["max_photos_per_feedback"], "max_photos_per_feedback", 0, 50)
        ok = ok and values["max_photos_per_feedback"] is not None
    if "photo_types" in f:
        names = []
        ok = ok and isinstance(f["photo_types"].value, list)
        for item in r.sequence(f["photo_types"], "photo_types"):
            name = r.text(item, "photo_types[]")
            if name not in PHOTO_TYPES:
                r.error(item.line, f"photo_types: {name!r} is not one of {', '.join(PHOTO_TYPES)}")
                ok = False
            elif name not in names:
                names.append(name)
        values["photo_types"] = tuple(names)
    if not ok:
        return None
    return FeedbackRules(**values)


def combine_feedback(files: list[FileRead], context: LoadContext) -> FeedbackRules | None:
    """The one file's rules, or the defaults when the rule set has none."""
    if any(f.result is None for f in files):
        return None
    return files[0].result if files else DEFAULT_FEEDBACK_RULES


KIND = RuleFileKind(name="feedback", pattern="feedback.yaml", read=read_feedback, combine=combine_feedback)
