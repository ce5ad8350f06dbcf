"""Devices as NAPALM sees them: the scenario's inventory (secrets by reference) and the
connection to each router, built-in lab or real."""

from harness.devices.inventory import DeviceSpec, connect, device_facts, facts_of

__all__ = ["DeviceSpec", "connect", "device_facts", "facts_of"]
