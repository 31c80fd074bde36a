"""Calibration recipes: raw sources in ../shared/data -> the built-in benchmarks (see README.md)."""
