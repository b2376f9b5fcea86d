"""Baselines: records of approved runs and the stores that keep them (issue 3)."""
