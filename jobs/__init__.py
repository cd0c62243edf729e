"""Background jobs on RQ and Redis (DESIGN section 7)."""
