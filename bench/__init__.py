"""Benchmark of the claim intake pipeline: ``python -m bench.run`` (see bench/README.md)."""
