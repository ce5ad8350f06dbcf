"""One real FRR instance per router node, in the node's namespace, under watchfrr.

FRR runs with a pathspace (`-N`) named like the namespace: config in `/etc/frr/<ns>/`,
sockets and pid files in `/var/run/frr/<ns>/`. watchfrr enters the namespace itself,
starts the daemons, loads `frr.conf` and restarts a crashed daemon after 1 s. It runs in
its own UTS namespace whose hostname is the node's name, because FRR ignores `hostname`
under `-N` (FRR issue #7583); vtysh joins that UTS namespace to show it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import LabError
from harness.frrvty import ask_daemon
from harness.lab.names import FRR_ETC, FRR_RUN
from harness.lab.procs import alive, kill
from harness.lab.shell import run
from harness.topology.model import FrrSpec

FRR_LIB = Path("/usr/lib/frr")
# Lines the built-in lab appends to a router's configuration; reported to the user.
LAB_ADAPTATIONS = (
    ("no zebra nexthop kernel enable",
     "FRR 8.4 ECMP bug: the kernel silently keeps one path after a flap (fixed in FRR 9.0)"),
)
# A real router's BFD runs on its line cards or at a high priority; in the lab every router's
# daemons share two CPUs, and when a core fails ~100 of them (each router's ospfd and zebra)
# run at once: a bfdd at their priority waited past its 300 ms detection time, and the
# surviving core lost 1-3 adjacencies for ~1 s (at 50 routers, in 1 of 4 runs watched).
DAEMON_WRAPS = {"bfdd": "nice -n -10"}  # frrcommon.sh's `<daemon>_wrap`


@dataclass(frozen=True)
class FrrInstance:
    """An FRR instance by its pathspace (= namespace name) and the node's hostname."""

    pathspace: str
    hostname: str

    @property
    def etc(self) -> Path:
        return FRR_ETC / self.pathspace

    @property
    def rundir(self) -> Path:
        return FRR_RUN / self.pathspace

    @property
    def log_file(self) -> Path:
        return self.rundir / "frr.log"

    def prepare(self, spec: FrrSpec) -> None:
        """Write the instance's config, daemons file and run directory."""
        frr = pwd.getpwnam("frr")
        for d in (self.etc, self.rundir):
            d.mkdir(parents=True, exist_ok=True)
            os.chown(d, frr.pw_uid, frr.pw_gid)
            d.chmod(0o750)
        config = spec.config.read_text().rstrip()
        config = config[: -len("end")].rstrip() if config.endswith("\nend") else config
        extra = [f"log file {self.log_file}"] + [line for line, _ in LAB_ADAPTATIONS]
        files = {
            "frr.conf": f"{config}\n!\n! added by the built-in lab\n" + "\n".join(extra) + "\n!\n",
            "daemons": "".join(f"{d}=yes\n{d}_options=\"-A 127.0.0.1\"\n"
                               + (f"{d}_wrap=\"{DAEMON_WRAPS[d]}\"\n" if d in DAEMON_WRAPS else "")
                               for d in spec.daemons),
            "vtysh.conf": "service integrated-vtysh-config\n",
        }
        for name, text in files.items():
            path = self.etc / name
            path.write_text(text)
            os.chown(path, frr.pw_uid, frr.pw_gid)
            path.chmod(0o640)

    def start(self, daemons: tuple[str, ...]) -> subprocess.Popen[bytes]:
        """Start watchfrr (daemonising), its config's OSPF instance first (`ospf_first`);
        the caller waits for the returned process."""
        config = self.etc / "frr.conf"
        text = config.read_text()
        if (ordered := ospf_first(text)) != text:
            config.write_text(ordered)  # the file keeps its owner and mode
        watchfrr = [str(FRR_LIB / "watchfrr"), "-N", self.pathspace, "--netns", "-d",
                    "-F", "traditional", "--min-restart-interval", "1", *daemons]
        script = f"hostname {self.hostname} && exec {' '.join(watchfrr)}"
        return subprocess.Popen(["unshare", "--uts", "sh", "-c", script],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def pids(self) -> dict[str, int]:
        """Daemon name -> pid, from the instance's pid files (only live processes)."""
        out = {}
        for pidfile in self.rundir.glob("*.pid"):
            try:
                pid = int(pidfile.read_text().split()[0])
            except (ValueError, IndexError, OSError):
                continue
            if alive(pid):
                out[pidfile.stem] = pid
        return out

    def running(self, daemon: str) -> bool:
        """Whether the daemon runs (its pid file names a live process)."""
        try:
            return alive(int((self.rundir / f"{daemon}.pid").read_text().split()[0]))
        except (ValueError, IndexError, OSError):
            return False

    def stop(self) -> list[int]:
        """SIGKILL watchfrr first (so it restarts nothing), then every daemon; pids killed."""
        pids = self.pids()
        first = [pids.pop("watchfrr")] if "watchfrr" in pids else []
        return kill(first + list(pids.values()))

    def remove_files(self) -> None:
        for d in (self.etc, self.rundir):
            shutil.rmtree(d, ignore_errors=True)

    def vtysh(self, *commands: str, check: bool = True, timeout: float = 15.0) -> str:
        """Run vtysh commands against this instance (in its UTS namespace when it runs)."""
        argv = ["vtysh", "-N", self.pathspace]
        for c in commands:
            argv += ["-c", c]
        watchfrr = self.pids().get("watchfrr")
        if watchfrr:
            argv = ["nsenter", "-t", str(watchfrr), "-u", *argv]
        proc = run(argv, check=False, timeout=timeout)
        if check and proc.returncode != 0:
            raise LabError(f"{self.hostname}: vtysh {' / '.join(commands)}: "
                           f"{(proc.stdout + proc.stderr).strip() or f'exit {proc.returncode}'}")
        return proc.stdout

    def vty_jsons(self, daemon: str, *commands: str, timeout: float = 5.0) -> list[Any]:
        """`show ... json` commands sent straight to one daemon's vty socket
        (`harness.frrvty`): their parsed outputs in order ({} where the daemon printed
        nothing). LabError if it cannot answer, or refuses a command."""
        try:
            answers = ask_daemon(self.rundir / f"{daemon}.vty", commands, timeout)
        except OSError as exc:
            raise LabError(f"{self.hostname}: {daemon} does not answer: {exc}") from None
        out = []
        for command, (status, text) in zip(commands, answers, strict=True):
            if status:
                raise LabError(f"{self.hostname}: {daemon}: {command}: "
                               f"{text.strip() or f'status {status}'}")
            try:
                out.append(json.loads(text) if text.strip() else {})
            except json.JSONDecodeError as exc:
                raise LabError(f"{self.hostname}: {command}: not JSON: {text[:200]}") from exc
        return out

    def vtysh_json(self, command: str) -> Any:
        """A `show ... json` command's parsed output ({} when the daemon prints nothing)."""
        out = self.vtysh(command).strip()
        try:
            return json.loads(out) if out else {}
        except json.JSONDecodeError as exc:
            raise LabError(f"{self.hostname}: {command}: not JSON: {out[:200]}") from exc


def ospf_first(config: str) -> str:
    """The config with its `router ospf` blocks moved before its first interface. FRR 8.4
    creates the OSPF instance at the first `ip ospf area` line, and a `max-metric router-lsa
    on-startup` read after that never applies: a restarted core would carry transit traffic
    before its own routes are in. FRR's own `write memory` puts the block last (a NAPALM
    commit saves so), hence done at every start, not only on the topology's files."""
    lines = config.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.startswith("interface ")), None)
    if first is None:
        return config
    blocks: list[str] = []
    rest = lines[:first]
    inside = False
    for line in lines[first:]:
        inside = inside or line.split()[:2] == ["router", "ospf"]  # not `router ospf6`
        if inside:
            blocks.append(line)
            if line.rstrip() == "exit":
                inside = False
                blocks.append("!\n")
        else:
            rest.append(line)
    return "".join(rest[:first] + blocks + rest[first:]) if blocks else config
