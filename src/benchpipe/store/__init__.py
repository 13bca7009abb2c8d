"""Artifacts on disk: parameters, samples tables, history, baselines, atomic writes."""
