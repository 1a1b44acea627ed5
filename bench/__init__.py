"""Benchmarks: each bench/scenario_*.py exposes run() -> dict; results land in bench/results/<name>.json."""
