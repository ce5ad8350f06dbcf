"""Devices from a Nornir inventory: SimpleInventory files read by Nornir (its inheritance), the
NetBox plugin where installed; credentials only by reference, every refusal one line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_run import failover
from nornir.core.inventory import Host, Hosts, Inventory
from nornir.core.plugins.inventory import InventoryPluginRegister
from test_scenario_load import OTHER_ROUTERS, _real_core1

from harness.devices import DeviceSpec
from harness.errors import InputError
from harness.scenario.load import load_scenario

DEFAULTS = """\
username: failover
data: {password_env: NET_PW}
connection_options:
  napalm: {extras: {optional_args: {transport: https}}}
"""
GROUPS = """\
arista:
  platform: eos
  data: {password_env: ARISTA_PW}
junos:
  platform: junos
  port: 830
"""
HOSTS = """\
core1: {hostname: 10.0.0.1, groups: [arista]}
core2: {hostname: 10.0.0.2, groups: [arista]}
dist-dc: {hostname: 10.0.0.3, groups: [junos], data: {password_file: /etc/failover/dc.pw}}
dist-care: {groups: [junos], username: ops}
firewall9: {hostname: 10.0.0.9, platform: panos}
"""
INVENTORY = ("inventory:\n  nornir: {hosts: inv/hosts.yaml, groups: inv/groups.yaml, "
             "defaults: inv/defaults.yaml}\n")


def _scenario(tmp_path: Path, hosts: str = HOSTS, groups: str = GROUPS,
              defaults: str = DEFAULTS, inventory: str = INVENTORY) -> Path:
    """`_real_core1` with only core1 in `devices:`, the other routers in the inventory."""
    path = _real_core1(tmp_path)
    path.write_text(path.read_text().replace(OTHER_ROUTERS, "") + inventory)
    (tmp_path / "inv").mkdir()
    for name, text in (("hosts", hosts), ("groups", groups), ("defaults", defaults)):
        (tmp_path / "inv" / f"{name}.yaml").write_text(text)
    return path


def _refused(path: Path) -> str:
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert "\n" not in str(err.value)
    return str(err.value)


def test_simple_inventory_gives_the_routers_with_nornirs_inheritance(tmp_path: Path) -> None:
    devices = load_scenario(_scenario(tmp_path)).spec.devices
    assert devices == {
        "core1": DeviceSpec(driver="eos", host="core1.mgmt.example",  # `devices:` wins
                            password_env="CORE_PW"),
        "core2": DeviceSpec(driver="eos", host="10.0.0.2", username="failover",
                            password_env="ARISTA_PW", optional_args={"transport": "https"}),
        "dist-dc": DeviceSpec(driver="junos", host="10.0.0.3", username="failover",
                              password_file=Path("/etc/failover/dc.pw"),
                              optional_args={"port": 830, "transport": "https"}),
        "dist-care": DeviceSpec(driver="junos", host="dist-care", username="ops",
                                password_env="NET_PW",
                                optional_args={"port": 830, "transport": "https"}),
    }  # firewall9 is no node of the topology


def test_a_scenario_without_inventory_and_the_cli_do_not_import_nornir() -> None:
    code = ("import sys\nfrom harness.cli import main\nsys.argv = ['failover', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "import harness.pytest_plugin\nfrom harness.scenario.load import load_scenario\n"
            "load_scenario('scenarios/core1-uplink-shutdown.yml')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'nornir'))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True)
    assert run.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize(("file", "change", "line", "field"), [
    ("hosts", lambda t: t.replace("core2: {hostname: 10.0.0.2,",
                                  "core2: {hostname: 10.0.0.2, password: hunter2,"),
     2, "core2.password"),
    ("hosts", lambda t: t.replace("data: {password_file: /etc/failover/dc.pw}",
                                  "data: {password: hunter2}"), 3, "dist-dc.data.password"),
    ("hosts", lambda t: t.replace("{password_file: /etc/failover/dc.pw}",
                                  "{users: [{name: a, api_key: hunter2}]}"),
     3, "dist-dc.data.users[0].api_key"),
    ("groups", lambda t: t.replace("  port: 830\n", "  port: 830\n  password: hunter2\n"),
     7, "junos.password"),
    ("defaults", lambda t: t.replace("data: {password_env: NET_PW}",
                                     "data: {enable_secret: hunter2}"), 2, "data.enable_secret"),
    ("defaults", lambda t: t.replace("{transport: https}", "{transport: https, secret: x}"),
     4, "connection_options.napalm.extras.optional_args.secret"),
])
def test_a_credential_in_an_inventory_is_refused_naming_file_and_host(
        tmp_path: Path, file: str, change: Any, line: int, field: str) -> None:
    texts = {"hosts": HOSTS, "groups": GROUPS, "defaults": DEFAULTS}
    texts[file] = change(texts[file])
    message = _refused(_scenario(tmp_path, **texts))
    assert message.startswith(f"{tmp_path / 'inv' / file}.yaml:{line}: {field}: a credential "
                              "must not be written in an inventory"), message
    assert "hunter2" not in message


def test_an_inventory_is_for_a_run_on_real_devices(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    text = path.read_text()
    path.write_text(text[:text.index("probes:\n")] + INVENTORY)
    line = len(path.read_text().splitlines()) - 1
    assert _refused(path) == f"{path}:{line}: inventory: an inventory gives real devices: name " \
        "the hosts that probe that network in `probes:` (the built-in lab needs no inventory)"


def test_failover_validate_prints_the_refusal_as_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = _scenario(tmp_path, groups=GROUPS.replace("  port: 830\n",
                                                     "  port: 830\n  password: hunter2\n"))
    code, out, err = failover(capsys, monkeypatch, "validate", str(path))
    assert code == 2 and err.count("\n") == 1 and "hunter2" not in out + err, err
    assert f"{tmp_path / 'inv' / 'groups.yaml'}:7: junos.password: a credential" in err


@pytest.mark.parametrize(("hosts", "groups", "where", "message"), [
    (HOSTS.replace("dist-care: {groups: [junos], username: ops}\n", ""), GROUPS,
     "real.yml:", "devices: a run on real devices reads every router through NAPALM: no entry "
     "for dist-care"),
    (HOSTS.replace("[junos], username", "[juniper], username"), GROUPS,
     "inv/hosts.yaml:4:", "dist-care.groups: no group 'juniper' in the groups file"),
    (HOSTS.replace("groups: [arista]}", "groups: arista}"), GROUPS,
     "inv/hosts.yaml:1:", "core1.groups: a list of group names"),
    (HOSTS, GROUPS.replace("  platform: junos\n", ""),
     "inv/hosts.yaml:3:", "dist-dc: no platform (the NAPALM driver"),
    (HOSTS.replace("10.0.0.2,", "'-oProxyCommand=x',"), GROUPS,
     "inv/hosts.yaml:2:", "core2.hostname: a device address or name"),
    (HOSTS.replace("dist-care: {groups: [junos], username: ops}",
                   "dist-care: {platform: frr, hostname: localhost, "
                   "connection_options: {napalm: {extras: {}}}}"), GROUPS,
     "inv/hosts.yaml:4:", "dist-care: the built-in lab's FRR (frr on localhost) cannot come"),
    ("[core1]\n", GROUPS, "inv/hosts.yaml:1:", "a Nornir hosts file is a mapping"),
])
def test_a_bad_inventory_is_one_line_at_its_file(tmp_path: Path, hosts: str, groups: str,
                                                 where: str, message: str) -> None:
    found = _refused(_scenario(tmp_path, hosts=hosts, groups=groups))
    assert found.startswith(f"{tmp_path}/{where}") and f": {message}" in found, found


def test_an_inventory_file_missing_is_named_at_the_scenarios_line(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    (tmp_path / "inv" / "groups.yaml").unlink()
    line = path.read_text().splitlines().index("  nornir: {hosts: inv/hosts.yaml, groups: "
                                               "inv/groups.yaml, defaults: inv/defaults.yaml}") + 1
    found = _refused(path)
    assert found.startswith(f"{path}:{line}: inventory.nornir: ") and "groups.yaml" in found


NETBOX = "inventory:\n  nornir: {plugin: NetBoxInventory2, options: {nb_url: https://nb}, " \
         "token_env: NB_TEST_TOKEN}\n"


@pytest.fixture
def fake_netbox() -> Iterator[list[dict[str, Any]]]:
    """A NetBoxInventory2 registered as the plugin registers itself; records its options."""
    calls: list[dict[str, Any]] = []

    class FakeNetBox:
        def __init__(self, **options: Any) -> None:
            calls.append(options)

        def load(self) -> Inventory:
            hosts = Hosts({name: Host(name, hostname=f"{name}.nb", platform="eos",
                                      data={"password_env": "NB_DEVICES_PW"})
                           for name in ("core2", "dist-dc", "dist-care")})
            return Inventory(hosts=hosts)

    InventoryPluginRegister.register("NetBoxInventory2", FakeNetBox)
    yield calls
    InventoryPluginRegister.deregister("NetBoxInventory2")


def test_netbox_through_the_plugin_its_token_by_reference(
        tmp_path: Path, fake_netbox: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = _scenario(tmp_path, inventory=NETBOX)
    assert "environment variable NB_TEST_TOKEN (the NetBox token) is not set" in _refused(path)
    monkeypatch.setenv("NB_TEST_TOKEN", "tok-123")
    devices = load_scenario(path).spec.devices
    assert devices["dist-dc"] == DeviceSpec(driver="eos", host="dist-dc.nb",
                                            password_env="NB_DEVICES_PW")
    assert fake_netbox[-1]["nb_url"] == "https://nb" and fake_netbox[-1]["nb_token"] == "tok-123"
    assert "tok-123" not in repr(load_scenario(path).spec)


def test_netbox_without_its_plugin_is_one_clear_line(tmp_path: Path) -> None:
    if "NetBoxInventory2" in InventoryPluginRegister.available:
        pytest.skip("nornir_netbox is installed here")
    found = _refused(_scenario(tmp_path, inventory=NETBOX))
    assert found.endswith("inventory.nornir: the Nornir inventory plugin NetBoxInventory2 is "
                          "not installed (pip install nornir-netbox)"), found


@pytest.mark.parametrize(("inventory", "message"), [
    ("inventory:\n  nornir: {groups: inv/groups.yaml}\n", "give a hosts file or a plugin"),
    ("inventory:\n  nornir: {hosts: inv/hosts.yaml, token_env: X}\n", "are a plugin's"),
    ("inventory:\n  nornir: {plugin: NetBoxInventory2, options: {nb_token: x}}\n",
     "inventory.nornir.options.nb_token: a secret must not be written"),
    ("inventory:\n  nornir: {plugin: Other}\n", "inventory.nornir.plugin: "),
])
def test_the_inventory_key_is_checked(tmp_path: Path, inventory: str, message: str) -> None:
    assert message in _refused(_scenario(tmp_path, inventory=inventory))


def test_the_inventory_files_are_kept_in_the_packs_inputs(tmp_path: Path) -> None:
    from harness.report.pack import _copy_inputs
    _copy_inputs(tmp_path / "inputs", load_scenario(_scenario(tmp_path)))
    kept = tmp_path / "inputs" / "inventory"
    assert sorted(p.name for p in kept.iterdir()) == ["defaults.yaml", "groups.yaml",
                                                      "hosts.yaml"]
    assert (kept / "hosts.yaml").read_text() == (tmp_path / "inv" / "hosts.yaml").read_text()
