"""Scenarios as data: curated YAML shipped in the package, and a procedural generator."""
