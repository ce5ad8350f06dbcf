"""Runbook scenarios: a `steps:` list run in order while the probes run across it."""
