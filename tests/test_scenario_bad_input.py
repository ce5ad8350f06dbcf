"""Scenario and flows files a user gets wrong: each refused at load, in one line naming the
file that holds the problem, its line and field; nothing accepted that no engineer means."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.inputfile import MAX_BYTES
from harness.scenario.load import load_scenario
from tests.test_scenario_load import BASE

ROOT = Path(__file__).resolve().parent.parent
HOSPITAL = ROOT / "topologies/hospital-core.clab.yml"
DRAIN = "  - {kind: planned-drain, node: core1, revert_in: 600}\n"
POWER = "  - {kind: node-power-loss, node: core1}\n"
VOICE = "sla_classes: {voice: {max_outage_ms: 300}}"
FLOWS_FILE = "scenarios/flows/hospital-critical.yml"
FLOW = "  - {name: v, src: voip, dst: pbx, application: rtp, sla_class: voice}\n"

BAD = [  # (old, new, line, field, message)
    ("node: core1}", "node: [core1]}", 7, "faults[0]", "node must be str, not ['core1']"),
    ("max_outage_ms: 300", "max_outage_ms: .inf", 3, "sla_classes.voice.max_outage_ms",
     "not a finite number"),
    ("max_outage_ms: 300", "max_outage_ms: 1e400", 3, "sla_classes.voice.max_outage_ms",
     "valid number"),
    ("max_outage_ms: 300", "max_outage_ms: true", 3, "sla_classes.voice.max_outage_ms",
     "valid number"),
    ("max_outage_ms: 300", "max_outage_ms: 300, hard_limit_ms: 100", 3, "sla_classes.voice",
     "hard_limit_ms 100 is below the SLA (300 ms)"),
    ("name: t\n", "name: t\ntimings: {hold_s: 1.0e+9}\n", 2, "timings.hold_s",
     "less than or equal to 3600"),
    ("name: t\n", "name: t\ntimings: {hold_s: '5'}\n", 2, "timings.hold_s", "valid number"),
    ("name: t\n", "name: \"t\\n\"\n", 1, "name", "should match pattern"),
    ("dst: pbx", "dst: voip", 5, "flows[0].dst", "a flow from voip to itself"),
    (FLOW, FLOW + FLOW.replace("rtp", "sip"), 6, "flows[1].name",
     "flow name 'v' is already used (at "),
    (POWER, POWER + POWER, 8, "faults[1]", "the same fault as faults[0]"),
    (POWER, DRAIN.replace("600", "0"), 7, "faults[0]", "revert_in must be above 0"),
    (POWER, DRAIN.replace("600", "-5"), 7, "faults[0]", "revert_in must be above 0"),
    (POWER, "  - {kind: routing-daemon-crash, node: core1, daemons: [isisd]}\n", 7,
     "faults[0].daemons", "core1 does not run isisd (it runs zebra, staticd, bfdd, ospfd)"),
    (POWER, "  - {kind: routing-daemon-crash, node: ed}\n", 7, "faults[0].node",
     "ed is not an FRR router"),
    ("name: t\n", "name: t\ndevices: {core1: {host: ''}}\n", 2, "devices.core1.host",
     "not empty"),
    ("name: t\n", "name: t\ndevices: {core1: {host: -oProxyCommand=x}}\n", 2,
     "devices.core1.host", "not an option"),
    ("name: t\n", "name: t\ndevices: {core1: {optional_args: {enable_password: x}}}\n", 2,
     "devices.core1.optional_args.enable_password", "must not be written in the file"),
    ("name: t\n", "name: t\nprobes: {voip: {ssh: '', address: 198.18.9.1}}\n", 2,
     "probes.voip.ssh", "an ssh destination"),
    ("name: t\n", "name: t\n1: x\n", 2, "", "key '1' is not a string"),
    ("name: t\n", "name: t\nflows_from: [/dev/zero]\n", 2, "flows_from[0]",
     "a character device, not a regular file"),
    ("name: t\n", f"name: t\nflows_from: [{ROOT}/{FLOWS_FILE}, ROOT_REL/{FLOWS_FILE}]\n", 2,
     "flows_from[1]", "is listed already (flows_from[0])"),
    ("name: t\n", "name: t\nssh_config: nowhere.ssh_config\n", 2, "ssh_config",
     "No such file or directory"),
    ("name: t\n", "name: t\nssh_config: /tmp\n", 2, "ssh_config", "a directory"),
]


def _write(tmp_path: Path, old: str, new: str, topology: Path = HOSPITAL) -> Path:
    text = BASE.format(topology=topology)
    assert old in text
    path = tmp_path / "bad.yml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "line", "field", "message"), BAD,
                         ids=[f"{b[3]}-{b[4][:24]}" for b in BAD])
def test_a_bad_scenario_is_one_line_at_its_line_and_field(tmp_path: Path, old: str, new: str,
                                                          line: int, field: str,
                                                          message: str) -> None:
    path = _write(tmp_path, old, new.replace("ROOT_REL", os.path.relpath(ROOT, tmp_path)))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field), \
        str(err.value)
    assert message in err.value.message and "\n" not in str(err.value)


FLOWS = """flows:
  - {name: a, src: voip, dst: pbx, sla_class: voice}
  - name: b
    src: ed
    dst: ehr
    sla_class: voice
"""
FLOWS_BAD = [  # (old, new, line, field, message): the flows file is the one named
    ("    dst: ehr\n", "    dst: ehr\n    rate: fast\n", 6, "flows[1].rate", "valid number"),
    ("    dst: ehr\n", "    dst: ehr\n    token: abc\n", 6, "flows[1].token",
     "a secret must not be written"),
    ("    dst: ehr\n", "    dst: ehr\n    dst: pbx\n", 6, "flows[1].dst", "duplicate key"),
    ("flows:\n", "flow:\n", 1, "flow", "unknown key"),
    ("  - name: b\n", "  - name: a\n", 3, "flows[1].name", "flow name 'a' is already used"),
    ("    src: ed\n", "    src: ed\n    srcc: ed\n", 5, "flows[1].srcc", "unknown key"),
    ("    src: ed\n", "    src: nurse\n", 4, "flows[1].src", "unknown node 'nurse'"),
    ("    src: ed\n", "    src: [ed\n", 5, "", "YAML syntax error"),
]


@pytest.mark.parametrize(("old", "new", "line", "field", "message"), FLOWS_BAD,
                         ids=[f"{b[3]}-{b[4][:20]}" for b in FLOWS_BAD])
def test_a_bad_flows_file_is_named_with_its_line_and_field(tmp_path: Path, old: str, new: str,
                                                          line: int, field: str,
                                                          message: str) -> None:
    flows = tmp_path / "flows.yml"
    flows.write_text(FLOWS.replace(old, new, 1))
    path = _write(tmp_path, FLOW, "")
    path.write_text(path.read_text().replace("flows:\n", "flows_from: [flows.yml]\n"))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(flows), line, field), \
        str(err.value)
    assert message in err.value.message


def _topology_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "topologies/hospital-core", tmp_path / "hospital-core")
    copy = tmp_path / "hospital-core.clab.yml"
    copy.write_text(HOSPITAL.read_text())
    return copy


def test_a_problem_in_the_topology_is_reported_in_the_topology(tmp_path: Path) -> None:
    topology = _topology_copy(tmp_path)
    text = topology.read_text()
    topology.write_text(text.replace("kind: linux", "kindd: linux", 1))
    line = text.splitlines().index(next(ln for ln in text.splitlines() if "kind: linux" in ln))
    with pytest.raises(InputError) as err:
        load_scenario(_write(tmp_path, "name: t\n", "name: t\n", topology))
    assert (err.value.file, err.value.line) == (str(topology), line + 1), str(err.value)
    assert err.value.field.endswith(".kindd") and "unknown key" in err.value.message


def test_a_topology_that_cannot_be_read_is_reported_where_it_is_named(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.clab.yml"
    os.mkfifo(fifo)
    for topology, message in ((fifo, "a named pipe"), (tmp_path / "no.yml", "No such file")):
        with pytest.raises(InputError) as err:
            load_scenario(_write(tmp_path, "name: t\n", "name: t\n", topology))
        assert (err.value.file, err.value.line, err.value.field) == (
            str(tmp_path / "bad.yml"), 2, "topology"), str(err.value)
        assert message in err.value.message


@pytest.mark.parametrize(("dead", "timeout"), [("", 100.0), ("ip ospf dead-interval 45", 110.0),
                                               ("ip ospf dead-interval minimal "
                                                "hello-multiplier 4", 60.0)])
def test_the_convergence_timeout_follows_the_ospf_timers(tmp_path: Path, dead: str,
                                                         timeout: float) -> None:
    """hospital-core's own 4 s dead interval gives the 60 s floor; FRR's default 40 s
    (dead-interval removed from one core link) needs twice that and 20 s more."""
    topology = _topology_copy(tmp_path)
    core1 = tmp_path / "hospital-core/core1.conf"
    core1.write_text(core1.read_text().replace(" ip ospf dead-interval 4\n",
                                               f" {dead}\n" if dead else "", 1))
    assert load_scenario(_write(tmp_path, "name: t\n", "name: t\n", topology)) \
        .spec.timings.converge_timeout_s == timeout
    given = _write(tmp_path, "name: t\n", "name: t\ntimings: {converge_timeout_s: 30}\n",
                   topology)
    assert load_scenario(given).spec.timings.converge_timeout_s == 30
    assert load_scenario(_write(tmp_path, "name: t\n", "name: t\n")) \
        .spec.timings.converge_timeout_s == 60


def _largest(item: str, head: str) -> str:
    """`head` then as many numbered `item`s as fit in the largest input file."""
    count = (MAX_BYTES - len(head) - 10) // len(item % 0)
    return head + "".join(item % i for i in range(count))


def largest_scenario(tmp: Path, large: str) -> Path:
    """A scenario in `tmp` whose flows file (`large` "flows": ~17,700 flows) or topology
    ("topology": ~70,000 routers sharing one configuration) is of the largest size read."""
    flows = _largest("  - {name: f%05d, src: ed, dst: ehr, sla_class: clinical}\n", "flows:\n")
    topology, link = HOSPITAL, "core1:eth1"
    if large == "topology":
        flows = "flows:\n  - {name: f, src: r00000, dst: r00001, sla_class: clinical}\n"
        (tmp / "r.conf").write_text((ROOT / "topologies/two-path/r1.conf").read_text())
        topology, link = tmp / "big.clab.yml", "r00000:eth1"
        topology.write_text(_largest(
            "    r%05d: {}\n", "name: big\ntopology:\n  defaults: {kind: frr, startup-config: "
            "r.conf}\n  links: [{endpoints: [r00000:eth1, r00001:eth1]}]\n  nodes:\n"))
    (tmp / "flows.yml").write_text(flows)
    path = tmp / "s.yml"
    path.write_text(f"name: big\ntopology: {topology}\nflows_from: [flows.yml]\n"
                    "sla_classes: {clinical: {max_outage_ms: 1000}}\n"
                    f"faults: [{{kind: link-cut, link: '{link}'}}]\n")
    return path


@pytest.mark.parametrize("large", ["flows", "topology"])
def test_a_scenario_with_a_file_of_the_largest_size_loads(tmp_path: Path, large: str) -> None:
    """Read, checked and judged whole (how long it takes: bench/large_inputs.py)."""
    path = largest_scenario(tmp_path, large)
    assert max(f.stat().st_size for f in tmp_path.glob("*.yml")) > MAX_BYTES * 0.99
    loaded = load_scenario(path)
    assert len(loaded.flows) > 10_000 or len(loaded.topology.nodes) > 25_000


def test_flows_files_together_are_no_larger_than_one_input_file(tmp_path: Path) -> None:
    item = "  - {name: f%s-%05d, src: ed, dst: ehr, sla_class: clinical}\n"
    for part in "ab":
        (tmp_path / f"{part}.yml").write_text(_largest(item.replace("%s", part), "flows:\n"))
    path = _write(tmp_path, FLOW, "")
    path.write_text(path.read_text().replace("flows:\n", "flows_from: [a.yml, b.yml]\n"))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert (err.value.line, err.value.field) == (4, "flows_from[1]"), str(err.value)
    assert "the flows files come to over 1,048,576 bytes together" in err.value.message
