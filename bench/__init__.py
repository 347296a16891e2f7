"""Benchmark scripts (SPEC §12); run them all with `python -m bench`."""
