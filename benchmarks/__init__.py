"""Benchmarks of reportgen (``python benchmarks/run.py``); a package so the test suite can import them."""
