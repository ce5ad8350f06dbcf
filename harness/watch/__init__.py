"""Watching a maintenance window: outages found while the probes stream, marks people add,
results grouped into incidents (the runner is `harness.engine.watch`)."""
