"""NAPALM driver for FRRouting: `get_network_driver("frr")`.

optional_args:

- `transport`: `local` (FRR on this machine; default for localhost or with a `pathspace`)
  or `ssh` (netmiko).
- `pathspace`: the FRR instance's `-N` name (the built-in lab's namespace name).
- `vtysh_login_shell`: the SSH login lands in vtysh (containerlab FRR's `admin`). Getters
  that read FRR work; those needing a shell (counters, uptime, ping, the config API) raise
  NotImplementedError saying so: log in as root there instead.
- `sudo`: prefix SSH shell commands with `sudo -n` (a non-root login on a real box).
- `state_dir`: where candidate, rollback config and the pending revert live on the device
  (default `/var/run/frr[/<pathspace>]/napalm-frr`).
- `frr_reload`: path of frr-reload.py on the device (default `/usr/lib/frr/frr-reload.py`).
- `lldp_socket`: lldpd's control socket, when lldpd runs with `-u` (one per lab namespace).
- any netmiko `ConnectHandler` argument (`port`, `key_file`, `use_keys`, `sock`, ...).

Beyond NAPALM's API, `get_ospf_neighbors()` and `get_bfd_peers()` return the adjacency and
BFD state a failover check waits on (models in `napalm_frr.models`). NAPALM's own
`test_method_signatures` flags public methods it does not know: these two are deliberate.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from napalm.base import NetworkDriver, models
from napalm.base.exceptions import CommandErrorException
from napalm.base.netmiko_helpers import netmiko_args

from harness import frrjson
from napalm_frr import diff, facts, interfaces, protocols, routing
from napalm_frr.config import ConfigSession
from napalm_frr.models import BFDPeerDict, OSPFNeighborDict
from napalm_frr.transport import (
    LocalTransport,
    SshShellTransport,
    Transport,
    VtyshLoginTransport,
)

log = logging.getLogger(__name__)
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
USER_HZ = 100  # /proc/<pid>/stat start times are in these ticks on Linux
_NOT_RUNNING = re.compile(r"^(\w+) is not running$", re.MULTILINE)
# Commands one daemon answers (vtysh sends them to it alone), by their first words: asked of
# that daemon only (straight on its socket by the local transport)
_ONE_DAEMON = (("show version", "zebra"), ("show interface", "zebra"), ("show ip route", "zebra"),
               ("show ipv6 route", "zebra"), ("show ip ospf", "ospfd"),
               ("show ipv6 ospf6", "ospf6d"), ("show bfd", "bfdd"), ("show bgp", "bgpd"),
               ("show ip bgp", "bgpd"), ("show vrrp", "vrrpd"))


class DaemonNotRunning(CommandErrorException):
    """The FRR daemon that answers a command (bgpd, ospfd, ...) is not running."""


class FRRDriver(NetworkDriver):
    """NAPALM driver for FRRouting (vtysh, frr-reload.py), local or over SSH."""

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.hostname, self.username, self.password = hostname, username, password
        self.timeout = timeout
        args = dict(optional_args or {})
        self.pathspace: str | None = args.get("pathspace")
        self.lldp_socket: str | None = args.get("lldp_socket")
        self.transport = _transport(hostname, username, password, timeout, args)
        self.config_session = ConfigSession(
            self.transport, args.get("state_dir", f"{self.transport.rundir}/napalm-frr"),
            args.get("frr_reload", "/usr/lib/frr/frr-reload.py"))

    # -- connection ----------------------------------------------------------------------
    def open(self) -> None:
        self.transport.open()

    def close(self) -> None:
        self.transport.close()

    def is_alive(self) -> models.AliveDict:
        return {"is_alive": self.transport.is_alive()}

    def _run_commands(self, commands: list[str], encoding: str = "text",
                      daemon: str | None = None) -> list[Any]:
        """Every vtysh command goes through here; `json` parses each output. `daemon`: ask
        that daemon only (else the one `_ONE_DAEMON` names, if any)."""
        outputs = []
        for command in commands:
            result = self.transport.vtysh(command, timeout=self.timeout,
                                          daemon=daemon or _daemon_of(command))
            if not result.ok:
                down = _NOT_RUNNING.search(result.message)
                error = DaemonNotRunning if down else CommandErrorException
                raise error(f"{self.hostname}: {command}: {result.message}")
            if encoding != "json":
                outputs.append(result.out)
                continue
            try:
                outputs.append(json.loads(result.out) if result.out.strip() else {})
            except json.JSONDecodeError:
                raise CommandErrorException(f"{self.hostname}: {command}: not JSON: "
                                            f"{result.out[:200]}") from None
        return outputs

    def _run_shell(self, argv: list[str], timeout: float | None = None) -> str:
        """A command on the device's host (the lab node's namespaces): kernel facts, ping."""
        result = self.transport.exec(argv, timeout=timeout or self.timeout)
        if not result.ok:
            raise CommandErrorException(f"{self.hostname}: {' '.join(argv)}: {result.message}")
        return result.out

    # -- configuration -------------------------------------------------------------------
    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None:
        self.config_session.load(True, filename, config)

    def load_merge_candidate(self, filename: str | None = None,
                             config: str | None = None) -> None:
        self.config_session.load(False, filename, config)

    def compare_config(self) -> str:
        return self.config_session.compare()

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        start = time.monotonic()
        self.config_session.commit(message, revert_in)
        log.info("%s: committed in %.2f s%s", self.hostname, time.monotonic() - start,
                 f", reverts in {revert_in} s unless confirmed" if revert_in else "")

    def confirm_commit(self) -> None:
        self.config_session.confirm()

    def has_pending_commit(self) -> bool:
        return self.config_session.pending()

    def discard_config(self) -> None:
        self.config_session.discard()

    def rollback(self) -> None:
        start = time.monotonic()
        self.config_session.rollback()
        log.info("%s: rolled back in %.2f s", self.hostname, time.monotonic() - start)

    def get_config(self, retrieve: str = "all", full: bool = False, sanitized: bool = False,
                   format: str = "text") -> models.ConfigDict:
        """Running (FRR prints no defaults: `full` changes nothing), startup, candidate.

        The candidate is the loaded text: a whole config (replace) or a snippet (merge).
        """
        if format != "text":
            raise NotImplementedError(f"FRR configs are text only, not {format!r}")
        out: models.ConfigDict = {"running": "", "startup": "", "candidate": ""}
        if retrieve in ("all", "running"):
            out["running"] = diff.normalize(self._run_commands(["show running-config"])[0])
        if retrieve in ("all", "startup") and self.transport.has_shell:
            out["startup"] = self._run_shell(["cat", f"{self._confdir}/frr.conf"])
        if retrieve in ("all", "candidate") and self.config_session.candidate:
            out["candidate"] = self.config_session.candidate.text
        if sanitized:
            out = {k: diff.sanitize(v) for k, v in out.items()}
        return out

    # -- getters -------------------------------------------------------------------------
    def get_facts(self) -> models.FactsDict:
        version = self._run_commands(["show version"])[0]
        # hostname and domainname are in every daemon's own running configuration
        running = self._run_commands(["show running-config"], daemon="zebra")[0]
        names = list(self._run_commands(["show interface json"], "json")[0])
        return facts.facts(version, running, names, self._uptime())

    def _uptime(self) -> float:
        """Seconds since zebra started (the router's uptime; a lab node's boot); -1 unknown."""
        if not self.transport.has_shell:
            return -1.0
        pidfile = self.transport.rundir / "zebra.pid"
        out = self._run_shell(["sh", "-c", f'cat /proc/uptime "/proc/$(cat {pidfile})/stat"'])
        boot_seconds = float(out.split()[0])
        start_ticks = int(out.rsplit(")", 1)[1].split()[19])
        return round(boot_seconds - start_ticks / USER_HZ, 2)

    def get_interfaces(self) -> dict[str, models.InterfaceDict]:
        return interfaces.interfaces(self._run_commands(["show interface json"], "json")[0])

    def get_interfaces_ip(self) -> dict[str, models.InterfacesIPDict]:
        return interfaces.interfaces_ip(self._run_commands(["show interface json"], "json")[0])

    def get_interfaces_counters(self) -> dict[str, models.InterfaceCounterDict]:
        return interfaces.counters(json.loads(self._run_shell(["ip", "-j", "-s", "-s", "link"])))

    def get_bgp_neighbors(self) -> dict[str, models.BGPStateNeighborsPerVRFDict]:
        try:
            summary, neighbors = self._run_commands(
                ["show bgp vrf all summary json", "show bgp vrf all neighbors json"], "json")
        except DaemonNotRunning:
            summary, neighbors = {}, {}
        out = routing.bgp_neighbors(summary, neighbors)
        out.setdefault("global", {"router_id": "", "peers": {}})
        return out

    def get_route_to(self, destination: str = "", protocol: str = "",
                     longer: bool = False) -> dict[str, models.RouteDict]:
        """FRR's RIB: a list per prefix, one entry per next hop (as NAPALM's own tests)."""
        family = "ipv6" if ":" in destination else "ip"
        command = f"show {family} route"
        if destination:
            command += f" {destination}" + (" longer-prefixes" if longer else "")
        shown = self._run_commands([f"{command} json"], "json")[0]
        bgp = self._bgp_attributes([p for p, routes in shown.items()
                                    if any(r.get("protocol") == "bgp" for r in routes)], family)
        return routing.routes(shown, protocol, bgp)

    def _bgp_attributes(self, prefixes: list[str], family: str) -> dict[str, dict[str, Any]]:
        if not prefixes:
            return {}
        afi = "ipv6" if family == "ipv6" else "ipv4"
        summary = self._run_commands([f"show bgp {afi} unicast summary json"], "json")[0]
        local_as = int(summary.get(f"{afi}Unicast", summary).get("as", 0))
        shown = self._run_commands([f"show bgp {afi} unicast {p} json" for p in prefixes], "json")
        return {p: routing.bgp_attributes(s, local_as) for p, s in zip(prefixes, shown,
                                                                         strict=True)}

    def get_lldp_neighbors(self) -> dict[str, list[models.LLDPNeighborDict]]:
        """From lldpcli where lldpd runs (with `lldp_socket` when given); else empty."""
        if not self.transport.has_shell:
            return {}
        socket = ["-u", self.lldp_socket] if self.lldp_socket else []
        result = self.transport.exec(["lldpcli", *socket, "-f", "json0", "show", "neighbors"])
        if not result.ok:  # no lldpcli, or no lldpd behind it
            return {}
        return facts.lldp_neighbors(json.loads(result.out))

    def get_ospf_neighbors(self) -> dict[str, list[OSPFNeighborDict]]:
        """FRR extra: OSPF adjacencies per local interface ({} when ospfd is not running)."""
        try:
            shown = self._run_commands([frrjson.OSPF_NEIGHBORS], "json")[0]
        except DaemonNotRunning:
            return {}
        return protocols.ospf_neighbors(shown)

    def get_bfd_peers(self) -> list[BFDPeerDict]:
        """FRR extra: BFD sessions ([] when bfdd is not running)."""
        try:
            shown = self._run_commands([frrjson.BFD_PEERS], "json")[0]
        except DaemonNotRunning:
            return []
        return frrjson.bfd_peers(shown)

    def ping(self, destination: str, source: str = "", ttl: int = 255, timeout: int = 2,
             size: int = 100, count: int = 5, vrf: str = "",
             source_interface: str = "") -> models.PingResultDict:
        """iputils ping in the device's namespace, 0.2 s apart."""
        argv = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", str(timeout),
                "-s", str(size), "-t", str(ttl)]
        if source or source_interface:
            argv += ["-I", source or source_interface]
        if vrf:
            argv = ["ip", "vrf", "exec", vrf, *argv]
        result = self.transport.exec([*argv, destination], timeout=count * 0.2 + timeout + 10)
        return facts.ping(result.out + result.err)

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, Any]:
        """vtysh commands; `json` parses each output (give commands that end in `json`)."""
        if encoding not in ("text", "json"):
            raise NotImplementedError(f"encoding {encoding!r}: text or json only")
        return dict(zip(commands, self._run_commands(commands, encoding), strict=True))

    @property
    def _confdir(self) -> str:
        return f"/etc/frr/{self.pathspace}" if self.pathspace else "/etc/frr"


def _daemon_of(command: str) -> str | None:
    words = command.split()
    return next((daemon for first, daemon in _ONE_DAEMON
                 if words[:len(first.split())] == first.split()), None)


def _transport(hostname: str, username: str, password: str, timeout: int,
               args: dict[str, Any]) -> Transport:
    pathspace = args.get("pathspace")
    kind = args.get("transport", "local" if hostname in LOCAL_HOSTS or pathspace else "ssh")
    if kind == "local":
        return LocalTransport(pathspace)
    if kind != "ssh":
        raise ValueError(f"optional_args transport: 'local' or 'ssh', not {kind!r}")
    ssh_args = netmiko_args(args)
    if args.get("vtysh_login_shell"):
        return VtyshLoginTransport(pathspace, hostname, username, password, timeout, ssh_args)
    return SshShellTransport(pathspace, hostname, username, password, timeout, ssh_args,
                             sudo=bool(args.get("sudo")))
