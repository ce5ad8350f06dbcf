"""Scenario files: the reference ones load; a broken one is one line naming file, line, field."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import schemas
from harness.devices import DeviceSpec
from harness.errors import InputError
from harness.scenario.gate import fault_scope, paths_cut
from harness.scenario.load import load_scenario
from harness.schemas import scenario_schema

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_reference_scenarios_load(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.flows and (loaded.faults or loaded.failures or loaded.step_faults)
    for cf in loaded.flows:  # a hard abort never fires inside what the SLA allows
        assert cf.hard_limit_ms >= max(cf.sla.max_outage_ms, cf.failback_sla.max_outage_ms)
        assert cf.hard_limit_ms > 0


def test_flow_defaults_come_from_the_application() -> None:
    loaded = load_scenario(ROOT / "scenarios/core1-power-loss.yml")
    voice = next(cf for cf in loaded.flows if cf.flow.name == "voip-media")
    assert (voice.flow.protocol, voice.flow.port, voice.flow.dscp) == ("udp", 16384, 46)
    assert voice.sla.max_outage_ms == 300 and voice.hard_limit_ms == 3000


def test_gate_sees_which_faults_cut_the_last_path() -> None:
    one = load_scenario(ROOT / "scenarios/core1-power-loss.yml")
    both = load_scenario(ROOT / "scenarios/both-cores-down.yml")
    assert paths_cut(one.topology, one.flows, one.faults) == []
    assert len(paths_cut(both.topology, both.flows, both.faults)) == 6


BASE = """name: t
topology: {topology}
sla_classes: {{voice: {{max_outage_ms: 300}}}}
flows:
  - {{name: v, src: voip, dst: pbx, application: rtp, sla_class: voice}}
faults:
  - {{kind: node-power-loss, node: core1}}
"""

BAD = [
    ("application: rtp", "application: skype", 5, "flows[0].application", "unknown application"),
    ("sla_class: voice}", "sla_class: gold}", 5, "flows[0].sla_class", "unknown SLA class"),
    ("src: voip", "src: nurse", 5, "flows[0].src", "unknown node 'nurse'"),
    ("node: core1}", "node: core9}", 7, "faults[0].node", "unknown node 'core9'"),
    ("kind: node-power-loss", "kind: meteor", 7, "faults[0]", "unknown fault kind 'meteor'"),
    ("name: t\n", "name: t\ndevices: {c1: {credentials: {password: hunter2}}}\n", 2,
     "devices.c1.credentials.password", "must not be written in the file"),
    ("node: core1}", "node: core1, secret: hunter2}", 7, "faults[0].secret",
     "must not be written in the file"),
    ("faults:\n  - {kind: node-power-loss, node: core1}\n", "faults: []\n", 6, "faults",
     "at least 1 item"),
    ("faults:\n", "sweep: {}\nfaults:\n", 6, "sweep", "give either faults or a sweep"),
    ("name: t\n", "name: t\ntimings: {hold_s: -1}\n", 2, "timings.hold_s", "greater than"),
    ("name: t\n", "name: t\ndevices:\n  core9: {driver: eos}\n", 3, "devices.core9",
     "unknown node 'core9'"),
    ("name: t\n", "name: t\ndevices: {core1: {password_env: A, password_file: b}}\n", 2,
     "devices.core1", "not both"),
    ("name: t\n", "name: ../../etc/x\n", 1, "name", "should match pattern"),
]


@pytest.mark.parametrize(("old", "new", "line", "field", "message"), BAD,
                         ids=[b[3] for b in BAD])
def test_broken_scenario_names_file_line_field(tmp_path: Path, old: str, new: str, line: int,
                                               field: str, message: str) -> None:
    text = BASE.format(topology=ROOT / "topologies/hospital-core.clab.yml")
    assert old in text
    error = refused(tmp_path, text.replace(old, new, 1), line, field, message)
    assert "hunter2" not in error


def refused(tmp: Path, text: str, line: int, field: str, message: str) -> str:
    """`text` as a scenario file is refused in one line at `line` and `field`: that line."""
    path = tmp / "bad.yml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field), \
        str(err.value)
    assert message in str(err.value) and "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("kind", ["scenario", "results"])
def test_published_json_schemas_are_current(kind: str) -> None:
    assert schemas.path(kind).read_text() == schemas.text(kind), \
        f"run `failover schema {kind} --write`"


def test_a_napalm_fault_gets_its_nodes_inventory_entry(tmp_path: Path) -> None:
    text = BASE.format(topology=ROOT / "topologies/hospital-core.clab.yml").replace(
        "kind: node-power-loss", "kind: planned-drain").replace(
        "name: t\n", "name: t\ndevices: {core1: {driver: frr, username: admin, "
        "password_env: CORE_PW}}\n")
    path = tmp_path / "drain.yml"
    path.write_text(text)
    fault = load_scenario(path).faults[0]
    assert fault.journal_entry()["params"]["device"] == {  # references only, never a value
        "driver": "frr", "username": "admin", "password_env": "CORE_PW"}


@pytest.mark.parametrize(("driver", "message"), [
    ("iosxr", "NAPALM driver 'iosxr' cannot commit with commit-confirm"),
    ("eos", "planned-drain on NAPALM driver 'eos': give `drain` and `undrain` in its"),
])
def test_a_drain_needs_commit_confirm_and_the_drivers_syntax(tmp_path: Path, driver: str,
                                                             message: str) -> None:
    path = tmp_path / "drain.yml"
    path.write_text(BASE.format(topology=ROOT / "topologies/hospital-core.clab.yml").replace(
        "kind: node-power-loss", "kind: planned-drain").replace(
        "name: t\n", f"name: t\ndevices: {{core1: {{driver: {driver}, host: core1.example}}}}\n"))
    with pytest.raises(InputError, match=message) as err:
        load_scenario(path)
    assert ": faults[0]" in str(err.value)


HOSTS = ("ed", "ward", "ehr", "ad", "pacs", "voip", "pbx")  # the reference flows' ends
PROBES = "probes:\n" + "".join(f"  {h}: {{ssh: root@{h}.mgmt.example, address: 198.18.9.{i}}}\n"
                               for i, h in enumerate(HOSTS, 1))


OTHER_ROUTERS = "".join(f"  {r}: {{driver: eos, host: {r}.mgmt.example, password_env: PW}}\n"
                        for r in ("core2", "dist-dc", "dist-care"))


def _real_core1(tmp_path: Path, driver: str = "eos", probes: str = PROBES) -> Path:
    """core1-uplink-shutdown on real devices: every router an eos device (core1's `driver`),
    the topology's interface names the devices' own."""
    text = (ROOT / "scenarios/core1-uplink-shutdown.yml").read_text()
    device = f"{{driver: {driver}, host: core1.mgmt.example, password_env: CORE_PW}}"
    text = text.replace("{driver: frr, host: localhost}", device)
    text = text.replace("devices:\n", "devices:\n" + OTHER_ROUTERS)
    text = text.replace("../topologies", str(ROOT / "topologies")).replace(
        "flows/hospital", str(ROOT / "scenarios/flows/hospital"))
    path = tmp_path / "real.yml"
    path.write_text(text + probes)
    return path


def test_a_real_device_without_probe_hosts_is_refused(tmp_path: Path) -> None:
    """Changing a real core while the probes run in the built-in lab would measure nothing."""
    path = _real_core1(tmp_path, probes="")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    line = path.read_text().splitlines().index(next(  # the fault's own line
        ln for ln in path.read_text().splitlines() if "kind: interface-shutdown" in ln)) + 1
    assert str(err.value).startswith(f"{path}:{line}: faults[0]: core1's device (eos at core1.")
    assert "`probes:`" in str(err.value)


def test_a_run_on_real_devices_needs_commit_and_touches_nothing_without(tmp_path: Path) -> None:
    path = _real_core1(tmp_path)
    loaded = load_scenario(path)
    assert loaded.on_devices and loaded.real_devices() == ["core1 (eos at core1.mgmt.example)"]
    env = {**os.environ, "FAILOVER_JOURNAL_DIR": str(tmp_path / "journal")}
    run = subprocess.run([sys.executable, "-m", "harness", "run", str(path)], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 2 and "would change real devices: core1 (eos at " \
        "core1.mgmt.example); give --commit" in run.stderr, run.stderr
    assert not (tmp_path / "journal").exists()  # refused before anything was journaled
    plan = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "--dry-run"],
                          env=env, capture_output=True, text=True)
    assert plan.returncode == 0 and "interface eth2\n       shutdown" in plan.stdout
    assert "(real devices)" in plan.stdout and "probes of ed: over ssh to root@ed.mgmt" \
        in plan.stdout


@pytest.mark.parametrize(("change", "where", "message"), [
    (lambda t: t.replace("  pbx: {ssh: root@pbx.mgmt.example, address: 198.18.9.7}\n", ""),
     "probes", "no probe host for pbx (an end of flow voip-media)"),
    (lambda t: t.replace("  ed: {ssh:", "  nosuch: {ssh: a, address: 198.18.9.99}\n  ed: {ssh:"),
     "probes.nosuch", "unknown node 'nosuch'"),
    (lambda t: t.replace("address: 198.18.9.1}", "address: ed.example}"),
     "probes.ed.address", "valid IPv4 address"),
    (lambda t: t.replace("interface-shutdown, node: core1, interfaces: [eth2], "
                         "revert_in: 600", "node-power-loss, node: core1"),
     "faults[0]", "node-power-loss acts on the built-in lab's kernel"),
    (lambda t: t.replace("  dist-dc: {driver: eos, host: dist-dc.mgmt.example, "
                         "password_env: PW}\n", ""),
     "devices", "reads every router through NAPALM: no entry for dist-dc"),
    (lambda t: t.replace("core2: {driver: eos, host: core2.mgmt.example, password_env: PW}",
                         "core2: {driver: frr}"),
     "devices.core2", "the built-in lab's FRR (driver frr on localhost) cannot be part"),
    (lambda t: t.replace("interfaces: [eth2]", "interfaces: [Ethernet2]"),
     "faults[0].interfaces", "core1 has no link on Ethernet2 in topology hospital-core "
     "(its links: eth1, eth2, eth3)"),
])
def test_a_run_on_real_devices_is_checked_whole(tmp_path: Path, change: Any, where: str,
                                                message: str) -> None:
    path = _real_core1(tmp_path)
    path.write_text(change(path.read_text()))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert f": {where}: " in str(err.value) and message in str(err.value), str(err.value)
    assert str(err.value).startswith(f"{path}:")


def test_interface_shutdown_knows_its_drivers_syntax_and_its_links(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="NAPALM driver 'nxos' cannot commit with commit-"):
        load_scenario(_real_core1(tmp_path, driver="nxos"))  # no revert_in in NAPALM's nxos
    loaded = load_scenario(ROOT / "scenarios/core1-uplink-shutdown.yml")
    out = fault_scope(loaded.topology, loaded.faults)
    assert out.nodes == set() and [str(lk) for lk in out.links] == \
        [str(loaded.topology.find_link("core1:eth2"))]


def test_only_an_untouched_local_frr_entry_is_the_built_in_lab() -> None:
    assert DeviceSpec().is_lab and DeviceSpec(username="netops").is_lab
    for args in ({"transport": "local"}, {"pathspace": "other"}, {"state_dir": "/tmp/x"}):
        assert not DeviceSpec(optional_args=args).is_lab, args
    assert not DeviceSpec(host="core1.mgmt.example").is_lab
    assert not DeviceSpec(driver="eos").is_lab


def test_every_field_of_the_scenario_schema_has_a_description_and_an_example() -> None:
    """So an editor can complete it: every property, of every definition, every fault kind."""
    schema = scenario_schema()
    bare = [f"{where}.{name}" for where, sub in [("Scenario", schema), *schema["$defs"].items()]
            for name, prop in sub.get("properties", {}).items()
            if not prop.get("description") or not prop.get("examples")]
    assert bare == []
