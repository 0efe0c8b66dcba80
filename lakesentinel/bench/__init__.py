"""Benchmarks: each prints its figures and, with --json, ends with one JSON line."""
