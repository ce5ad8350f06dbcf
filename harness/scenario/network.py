"""The network a loaded scenario runs on: real devices when it names probe hosts, else the
built-in lab of its topology."""

from __future__ import annotations

from harness.lab import Lab
from harness.network import DeviceNetwork, LabNetwork, Network
from harness.network.base import WORKERS
from harness.probes.ssh_endpoint import SshEndpoint
from harness.scenario.load import LoadedScenario


def devices_network(loaded: LoadedScenario, workers: int = WORKERS) -> DeviceNetwork:
    spec = loaded.spec
    config = str(loaded.path.parent / spec.ssh_config) if spec.ssh_config else None
    probes = {node: SshEndpoint(name=node, destination=host.ssh, probe_address=str(host.address),
                                port=host.port, config_file=config, python=host.python)
              for node, host in spec.probes.items()}
    return DeviceNetwork(loaded.topology.name, loaded.topology, spec.devices, probes, workers)


def network_for(loaded: LoadedScenario, lab: Lab | None, workers: int = WORKERS) -> Network:
    """Real devices (`lab` unused), or `lab` (up, of the scenario's topology); `workers`:
    devices read at once."""
    if loaded.on_devices:
        return devices_network(loaded, workers)
    if lab is None:
        raise ValueError("a scenario on the built-in lab needs its lab")
    return LabNetwork(lab, loaded.spec.devices, workers)
