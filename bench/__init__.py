"""Benchmarks: run as scripts (``.venv/bin/python bench/load.py``); see bench/README.md."""
