"""Failure scenarios: YAML files naming a topology, critical flows with SLAs, and faults."""
