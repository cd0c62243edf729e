"""Optimistic concurrency: ETags and ``If-Match`` (docs/design.md §5)."""

from __future__ import annotations

from workflow.errors import PreconditionFailed


def check_if_match(if_match: str | None, etag: str) -> None:
    """Check an ``If-Match`` header against the record's current ETag.

    Args:
        if_match: the raw header value (``None`` when absent): ``*``, or a
            comma-separated list of entity tags, weak (``W/"..."``) or strong.
        etag: the record's current ETag.

    Raises:
        PreconditionFailed: the header is present and names no current tag.
    """
    if if_match is None:
        return
    for candidate in (c.strip() for c in if_match.split(",")):
        if candidate == "*":
            return
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return
    raise PreconditionFailed(
        f"If-Match {if_match[:100]!r} does not match the current version {etag}; read the record again",
        current_etag=etag,
    )
