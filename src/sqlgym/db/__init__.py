"""The database backend: build, snapshot, sandbox, cost meter (docs/architecture.md, "The cost meter" and "The sandbox")."""
