"""Benchmarks of codex stacks (``make bench``): every number is a ratio against a baseline measured
in the same run, so they compare across machines; see ``benchmarks/run.py``."""
