"""Background jobs on RQ and Redis (docs/design.md §7)."""
