"""The eval harness: ``python -m sqlgym.eval`` (see ``harness.run`` for the library entry point)."""
