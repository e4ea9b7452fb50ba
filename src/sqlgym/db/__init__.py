"""The database backend: build, snapshot, sandbox, cost meter (ARCHITECTURE.md sections 3 and 7)."""
