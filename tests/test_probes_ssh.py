"""Probes from a remote Linux host over SSH: a real sshd in lab host h2's namespace, reached
through a relay inside that namespace, as over an out-of-band management network. Nothing of
the harness is installed "there": the agent travels over the session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sshd import relay, sshd

from harness.lab import Lab
from harness.lab.shell import run
from harness.probes.endpoints import NetnsEndpoint, ProbeEndpoint
from harness.probes.flows import Flow
from harness.probes.session import ProbeError, ProbeSession
from harness.probes.ssh_endpoint import SshEndpoint

pytestmark = pytest.mark.lab
PORT = 2222
CHATTER = "Welcome to h2 - managed by hospital IT"


@pytest.fixture(scope="module")
def h2_over_ssh(two_path: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshEndpoint]:
    ns = two_path.ns("h2")
    tmp = tmp_path_factory.mktemp("sshd")
    talks = f"ForceCommand echo '{CHATTER}'; eval \"$SSH_ORIGINAL_COMMAND\"\n"  # as a chatty
    with sshd(ns, tmp, [f"127.0.0.1:{PORT}"], talks):  # login shell would, before the command
        (tmp / "ssh_config").write_text(ssh_config(ns, tmp, PORT))
        yield SshEndpoint(name="h2", destination="h2-mgmt", probe_address="198.19.2.10",
                          config_file=str(tmp / "ssh_config"))


def ssh_config(ns: str, tmp: Path, port: int) -> str:
    """What an engineer keeps for a maintenance window: how to reach each vantage point."""
    return (f"Host h2-mgmt\n  HostName 127.0.0.1\n  Port {port}\n  User root\n"
            f"  IdentityFile {tmp}/client\n  UserKnownHostsFile {tmp}/known_hosts\n"
            f"  ProxyCommand {relay(ns, tmp, '127.0.0.1', port)}\n")


def remote_agents(lab: Lab) -> list[str]:
    """The probe agents running in h2's namespace."""
    pids = run(["ip", "netns", "pids", lab.ns("h2")]).stdout.split()
    found = []
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"harness.probes." in cmdline:  # the bootstrap that runs the agent
            found.append(pid)
    return found


def session(lab: Lab, remote: ProbeEndpoint, tmp: Path, flows: list[Flow]) -> ProbeSession:
    return ProbeSession(flows, lambda n: remote if n == "h2" else NetnsEndpoint(n, lab.ns(n)),
                        tmp, max_seconds=60)


def gone(lab: Lab, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while remote_agents(lab):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_remote_host_probes_both_ways_and_leaves_nothing(two_path: Lab, tmp_path: Path,
                                                         h2_over_ssh: SshEndpoint) -> None:
    assert h2_over_ssh.config_file
    said = subprocess.run(["ssh", "-F", h2_over_ssh.config_file, "h2-mgmt", "true"],
                          capture_output=True, text=True, timeout=30).stdout
    assert CHATTER in said  # what the agent's record stream must survive
    flows = [Flow(name="ehr", src="h1", dst="h2", direction="both"),
             Flow.for_application("pacs", "h2", "h1", "dicom")]
    with session(two_path, h2_over_ssh, tmp_path, flows) as probes:
        probes.start()
        assert len(remote_agents(two_path)) == 2  # h2's agent and the sender it forked
        time.sleep(2.0)
        result = probes.stop()
    assert len(result.results) == 3
    for r in result.results:
        assert r.sent >= 1900 and (r.received, r.lost) == (r.sent, 0), r
    assert sorted(result.framed) == sorted(r.name for r in result.results)
    assert gone(two_path)


def test_remote_agents_die_with_a_dropped_session(two_path: Lab, tmp_path: Path,
                                                  h2_over_ssh: SshEndpoint) -> None:
    flows = [Flow(name="ehr", src="h1", dst="h2", direction="both")]
    with pytest.raises(RuntimeError), session(two_path, h2_over_ssh, tmp_path, flows) as probes:
        probes.start()
        assert len(remote_agents(two_path)) == 2
        raise RuntimeError("the controller fails half-way: its ssh clients are killed")
    assert gone(two_path)


def test_unreachable_host_is_a_clear_error(two_path: Lab, tmp_path: Path,
                                           h2_over_ssh: SshEndpoint) -> None:
    assert h2_over_ssh.config_file
    (tmp_path / "ssh_config").write_text(ssh_config(
        two_path.ns("h2"), Path(h2_over_ssh.config_file).parent, 2299))  # nothing listens
    closed = SshEndpoint(name="h2", destination="h2-mgmt", probe_address="198.19.2.10",
                         config_file=str(tmp_path / "ssh_config"))
    flows = [Flow(name="ehr", src="h1", dst="h2")]
    with pytest.raises(ProbeError, match="probe agent on h2 did not start: .*") as err, \
            session(two_path, closed, tmp_path, flows) as probes:
        probes.start()
    assert "Connection closed" in str(err.value), err.value  # ssh's own words
    assert not any(p for p in probes.pids if Path(f"/proc/{p}").exists())


def test_probe_command_with_a_remote_node(two_path: Lab, h2_over_ssh: SshEndpoint) -> None:
    assert h2_over_ssh.config_file
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "probe", two_path.name, "--flow", "h1:h2:rtp",
         "--both", "--duration", "2", "--remote", "h2=h2-mgmt,198.19.2.10",
         "--ssh-config", h2_over_ssh.config_file], capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in proc.stdout.splitlines()
            if "h1>h2 rtp" in line]
    assert len(rows) == 2, proc.stdout  # → and ←: flow, sent, received, lost, ...
    for row in rows:
        sent, received, lost = (int(x) for x in row[1:4])
        assert sent >= 1900 and received == sent and lost == 0, row
    assert gone(two_path)
