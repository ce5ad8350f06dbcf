"""The network a scenario runs on, behind one small interface (`Network`): the built-in lab
(`LabNetwork`: namespaces, FRR, read locally) or real devices (`DeviceNetwork`: NAPALM and
TextFSM for state, SSH hosts for the probes). The runner sees only the interface."""

from harness.network.base import Network, Snapshot
from harness.network.devices import DeviceNetwork
from harness.network.lab import LabNetwork

__all__ = ["DeviceNetwork", "LabNetwork", "Network", "Snapshot"]
