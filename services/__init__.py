"""Service functions: the use cases between web/jobs/CLI and the domain core.

Each public function is one database transaction: load, call the domain,
save, commit (or roll back everything)."""
