"""The containerlab reader: reference files, precedence, and every bad input named by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.topology import load_topology

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> Path:
    for name, content in (files or {"r1.conf": "router ospf\n", "r2.conf": "bfd\n"}).items():
        (tmp_path / name).write_text(content)
    path = tmp_path / "lab.clab.yml"
    path.write_text(text)
    return path


GOOD = """name: mini
topology:
  nodes:
    r1: {kind: frr, startup-config: r1.conf}
    r2: {kind: frr, startup-config: r2.conf}
  links:
    - endpoints: ["r1:eth1", "r2:eth1"]
"""


def test_reference_topologies_read() -> None:
    hc = load_topology(ROOT / "topologies/hospital-core.clab.yml")
    assert [r.name for r in hc.routers] == ["core1", "core2", "dist-dc", "dist-care"]
    assert len(hc.links) == 12 and len(hc.nodes) == 11
    assert hc.nodes["core1"].frr and "bfdd" in hc.nodes["core1"].frr.daemons
    assert not hc.nodes["ehr"].is_router and hc.nodes["ehr"].exec
    tp = load_topology(ROOT / "topologies/two-path.clab.yml")
    assert tp.nodes["r1"].kind == "frr"
    assert tp.nodes["r1"].frr
    assert tp.nodes["r1"].frr.daemons == ("zebra", "staticd", "bfdd", "ospfd")
    assert any(n.startswith("image") for n in tp.notes)


def test_precedence_node_over_group_over_kind_over_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, """name: prec
topology:
  defaults: {kind: frr, labels: {a: defaults, b: defaults, c: defaults, d: defaults}}
  kinds:
    frr: {startup-config: r1.conf, labels: {a: kind, b: kind, c: kind}}
  groups:
    g: {startup-config: r2.conf, labels: {a: group, b: group}}
  nodes:
    x: {group: g, labels: {a: node}}
    y: {}
""")
    topo = load_topology(path)
    x, y = topo.nodes["x"], topo.nodes["y"]
    assert x.labels == {"a": "node", "b": "group", "c": "kind", "d": "defaults"}
    assert x.frr and x.frr.config.name == "r2.conf"   # group beats kind
    assert y.frr and y.frr.config.name == "r1.conf"   # kind beats nothing
    assert y.frr.daemons == ("zebra", "staticd", "ospfd")  # inferred from `router ospf`


def test_daemons_from_extras_switch_others_off(tmp_path: Path) -> None:
    extras = "startup-config: r1.conf, extras: {frr: {daemons: [bgpd]}}}"
    path = write(tmp_path, GOOD.replace("startup-config: r1.conf}", extras))
    frr = load_topology(path).nodes["r1"].frr
    assert frr and frr.daemons == ("zebra", "staticd", "bgpd")


def test_linux_node_with_frr_image_and_binds(tmp_path: Path) -> None:
    path = write(tmp_path, """name: old
topology:
  nodes:
    r1:
      kind: linux
      image: frrouting/frr:v8.4.0
      binds: [r1.conf:/etc/frr/frr.conf, daemons:/etc/frr/daemons]
    h1: {kind: linux, image: alpine}
  links:
    - endpoints: [{node: r1, interface: eth1}, {node: h1, interface: eth1}]
      type: veth
""", {"r1.conf": "!\n", "daemons": "zebra=yes\nospfd=yes\nbgpd=no\nisisd=yes\n"})
    topo = load_topology(path)
    frr = topo.nodes["r1"].frr
    assert frr and frr.daemons == ("zebra", "staticd", "isisd", "ospfd")
    assert not topo.nodes["h1"].is_router


BAD = [
    ("missing", None, "", "No such file"),
    ("name: x\ntopology:\n  nodes: {r1: [\n", 4, "", "YAML syntax error"),
    (GOOD.replace('"r2:eth1"', '"r9:eth1"'), 7, "topology.links[0].endpoints", "unknown node 'r9'"),
    (GOOD + '    - endpoints: ["r1:eth1", "r2:eth2"]\n', 8, "topology.links[1].endpoints",
     "already used"),
    (GOOD.replace("r2.conf}", "nope.conf}"), 5, "topology.nodes.r2.startup-config",
     "file not found"),
    (GOOD.replace('"r1:eth1"', '"r1:ethernet-very-long1"'), 7, "topology.links[0].endpoints[0]",
     "not a valid Linux interface name"),
    (GOOD.replace("kind: frr, startup-config: r2.conf", "kind: nokia_srlinux"), 5,
     "topology.nodes.r2.kind", "needs a container engine"),
    (GOOD.replace("name: mini", "name: bad/name"), 1, "name", "lab name"),
    (GOOD + "    - endpoints: [r1:eth3]\n", 8, "topology.links[1].endpoints", "exactly two"),
    (GOOD.replace("r1: {kind: frr, startup-config: r1.conf}", "r1: {group: nope}"), 4,
     "topology.nodes.r1.group", "unknown group"),
    # types and shapes: a list or a number where a string or a mapping belongs
    *[(GOOD.replace("r1: {kind: frr,", f"r1: {{{key}: {value}, kind: frr,"), 4,
       f"topology.nodes.r1.{field}", message) for key, value, field, message in [
        ("group", "[g]", "group", "valid string"),
        ("labels", "[a]", "labels", "valid dictionary"),
        ("labels", "{a: [1]}", "labels.a", "a string or a number"),
        ("exec", "ip link", "exec", "valid list"), ("binds", "5", "binds", "valid list"),
        ("extras", "{frr: [ospfd]}", "extras.frr", "valid dictionary"),
        ("kindd", "frr", "kindd", "unknown key")]],
    *[(GOOD.replace("r1: {kind: frr,", f"r1: {{kind: {kind},"), 4, "topology.nodes.r1.kind",
       "valid string") for kind in ("7", "[frr]")],
    (GOOD.replace("r1: {kind: frr,", "r1: {kind: frr, kind: linux,"), 4,
     "topology.nodes.r1.kind", "duplicate key 'kind'"),
    ("name: only\n", 1, "topology", "Field required"),
    (GOOD + "extra: 1\n", 8, "extra", "unknown key"),
    *[(GOOD + f"      mtu: {mtu}\n", 8, "topology.links[0].mtu", message) for mtu, message in [
        ("[1500]", "valid integer"), ("-1", "greater than or equal to 68"),
        ("0", "greater than or equal to 68"), ("1500.5", "valid integer"),
        ("true", "valid integer"), ("70000", "less than or equal to 65535")]],
    *[(GOOD.replace('"r1:eth1", "r2:eth1"', f'{{node: r1, interface: eth1, mac: "{mac}"}}, '
                    '"r2:eth1"'), 7, "topology.links[0].endpoints[0]", "not a unicast MAC")
      for mac in ("zz", "01:00:5e:00:00:01", "00:00:00:00:00:00", "02:00:00:00:00:01\\n")],
    (GOOD.replace('"r2:eth1"', "{node: [r2], interface: eth1}"), 7,
     "topology.links[0].endpoints[1]", "are strings"),
    (GOOD.replace('"r2:eth1"', "{node: r2, iface: eth1}"), 7,
     "topology.links[0].endpoints[1]", "unknown key 'iface'"),
    # names checked whole: a final newline is not let through
    (GOOD.replace("name: mini", 'name: "mini\\n"'), 1, "name", "lab name"),
    (GOOD.replace("    r1: {kind", '    "r1\\n": {kind'), 4, "topology.nodes.r1\n",
     "node name"),
    (GOOD.replace('"r1:eth1"', '"r1:eth1\\n"'), 7, "topology.links[0].endpoints[0]",
     "not a valid Linux interface name"),
    # a configuration that is not a regular file is refused before it is read
    (GOOD.replace("r1.conf}", "/dev/zero}"), 4, "topology.nodes.r1.startup-config",
     "a character device, not a regular file"),
    (GOOD.replace("r1.conf}", "/tmp}"), 4, "topology.nodes.r1.startup-config", "a directory"),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD,
                         ids=[f"{b[2]}-{b[3][:20]}" for b in BAD])
def test_bad_input_names_file_line_field(tmp_path: Path, text: str, line: int | None,
                                         field: str, message: str) -> None:
    path = tmp_path / "missing.clab.yml" if text == "missing" else write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_topology(path)
    exc = err.value
    assert exc.file == str(path)
    assert (exc.line, exc.field) == (line, field), str(exc)
    assert message in str(exc)
    assert "\n" not in str(exc)


def test_a_configuration_that_is_not_utf8_is_refused_at_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, {"r1.conf": "router ospf\n", "r2.conf": "!\n"})
    (tmp_path / "r2.conf").write_bytes(b"!\nhostname caf\xe9\n")
    with pytest.raises(InputError) as err:
        load_topology(path)
    assert (err.value.file, err.value.line) == (str(tmp_path / "r2.conf"), 2), str(err.value)
    assert "not UTF-8" in str(err.value)


def test_keys_for_a_container_engine_are_noted_not_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("r1: {kind: frr,", "r1: {restart-policy: always, "
                                        "image: frr:8, kind: frr,"))
    notes = load_topology(path).notes
    assert any(n.startswith("restart-policy (r1)") for n in notes), notes
    assert any(n.startswith("image (r1)") for n in notes), notes
