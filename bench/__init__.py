"""Benchmarks that start the real server and print numbers (never pass/fail on time).

See bench/README.md. Every script runs as `python -m bench.<name> --help` from the repository
root (or `python bench/<name>.py`); `bench/run_all.py` runs them all with modest defaults.
"""
