"""napalm_frr over SSH (netmiko) against a real sshd in lab router r1's namespaces.

sshd runs in r1's network and UTS namespaces, so a login there is like a login on a
router named r1: port 2222 gives root a shell, port 2223 forces vtysh as the login shell
(what containerlab's FRR image does for `admin`). The client reaches it from host h1, as a
management station would: paramiko's ProxyCommand relays TCP from h1's namespace.
Authentication is by a throw-away key; the password given is a marker that must never show.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import paramiko
import pytest
from napalm import get_network_driver
from napalm.base import models
from napalm.base.exceptions import ConnectAuthError
from sshd import relay
from sshd import sshd as sshd_in

from harness.lab import Lab
from napalm_frr import FRRDriver

pytestmark = pytest.mark.lab
SECRET = "n0t-a-real-pw-7f3a"  # noqa: S105 - a marker to look for in logs and errors
SHELL_PORT, VTYSH_PORT = 2222, 2223


@pytest.fixture(scope="module")
def sshd(two_path: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """sshd in r1's namespaces with a temporary host key and client key; killed afterwards."""
    pathspace = two_path.ns("r1")
    watchfrr = two_path.frr("r1").pids()["watchfrr"]
    listen = [f"198.19.1.1:{SHELL_PORT}", f"198.19.1.1:{VTYSH_PORT}"]
    with sshd_in(pathspace, tmp_path_factory.mktemp("sshd"), listen, f"""\
            Match LocalPort {VTYSH_PORT}
                ForceCommand vtysh -N {pathspace}
            """, nsenter=["nsenter", "-t", str(watchfrr), "-u"]) as tmp:
        yield {"tmp": tmp, "lab": two_path, "pathspace": pathspace}


def ssh_driver(sshd: dict[str, Any], port: int, password: str = SECRET,
               key: bool = True, **extra: Any) -> FRRDriver:
    tmp = sshd["tmp"]
    proxy = relay(sshd["lab"].ns("h1"), tmp, "198.19.1.1", port)
    args = {"transport": "ssh", "pathspace": sshd["pathspace"], "port": port,
            "sock": paramiko.ProxyCommand(proxy), "use_keys": key, "allow_agent": False,
            "key_file": str(tmp / "client") if key else None, "ssh_strict": False,
            "system_host_keys": False, **extra}
    return get_network_driver("frr")("198.19.1.1", "root", password, timeout=20,
                                     optional_args=args)


@pytest.fixture
def shell(sshd: dict[str, Any]) -> Iterator[FRRDriver]:
    device = ssh_driver(sshd, SHELL_PORT)
    device.open()
    try:
        yield device
    finally:
        device.close()


def test_ssh_shell_getters(shell: FRRDriver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert shell.is_alive() == {"is_alive": True}
    facts = shell.get_facts()
    assert facts["hostname"] == "r1" and facts["uptime"] > 0
    counters = shell.get_interfaces_counters()  # the kernel's, read in r1's namespace
    assert set(counters) == {"lo", "eth1", "eth2", "eth3"}
    assert all(isinstance(v, int) for c in counters.values() for v in c.values())
    assert {i: [n["state"] for n in ns] for i, ns in shell.get_ospf_neighbors().items()} == \
        {"eth1": ["Full"], "eth2": ["Full"]}
    assert shell.ping("198.18.0.4", count=2)["success"]["packet_loss"] == 0
    assert "hostname r1" in shell.get_config()["startup"]
    assert SECRET not in caplog.text


def test_ssh_shell_config_and_revert_after_disconnect(sshd: dict[str, Any],
                                                      shell: FRRDriver) -> None:
    before = shell.get_config(retrieve="running")["running"]
    shell.load_merge_candidate(config="interface eth1\n ip ospf cost 100\nexit\n")
    assert shell.compare_config() == "  interface eth1\n-  ip ospf cost 10\n+  ip ospf cost 100"
    shell.commit_config()
    shell.rollback()
    assert shell.get_config(retrieve="running")["running"] == before

    shell.load_merge_candidate(config="interface eth1\n ip ospf cost 100\nexit\n")
    start = time.monotonic()
    shell.commit_config(revert_in=2)
    shell.close()  # the SSH session ends: the revert scheduled on the box must not
    local = get_network_driver("frr")("r1", "", "", optional_args={"pathspace": sshd["pathspace"]})
    try:
        assert local.has_pending_commit()
        while local.has_pending_commit():
            assert time.monotonic() - start < 10, "not reverted"
            time.sleep(0.1)
        print(f"reverted {time.monotonic() - start:.2f} s after commit over SSH")
        assert local.get_config(retrieve="running")["running"] == before
    finally:
        if local.has_pending_commit():
            local.rollback()


def test_vtysh_login_shell(sshd: dict[str, Any]) -> None:
    device = ssh_driver(sshd, VTYSH_PORT, vtysh_login_shell=True)
    device.open()
    try:
        facts = device.get_facts()
        assert model_ok_keys(facts, models.FactsDict) and facts["hostname"] == "r1"
        assert facts["uptime"] == -1.0  # no shell to read it
        assert device.get_interfaces()["eth1"]["is_up"]
        assert device.get_interfaces_ip()["eth3"]["ipv4"] == \
            {"198.19.1.1": {"prefix_length": 24}}
        assert set(device.get_ospf_neighbors()) == {"eth1", "eth2"}
        assert "router ospf" in device.get_config()["running"]
        assert "Full" in device.cli(["show ip ospf neighbor"])["show ip ospf neighbor"]
        with pytest.raises(NotImplementedError, match="log in as a user with a shell"):
            device.get_interfaces_counters()
        with pytest.raises(NotImplementedError, match="log in as a user with a shell"):
            device.load_merge_candidate(config="interface eth1\n ip ospf cost 100\n")
    finally:
        device.close()


def model_ok_keys(data: dict[str, Any], model: type) -> bool:
    return set(data) == set(model.__annotations__)


def test_failed_login_keeps_the_password_secret(sshd: dict[str, Any],
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    device = ssh_driver(sshd, SHELL_PORT, key=False)  # password only: the server refuses it
    with pytest.raises(ConnectAuthError) as failure:
        device.open()
    assert SECRET not in str(failure.value) and SECRET not in repr(failure.value)
    assert SECRET not in caplog.text
