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
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD)
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
