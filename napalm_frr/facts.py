"""Facts, LLDP neighbours and ping results, parsed from FRR, lldpcli and iputils output."""

from __future__ import annotations

import re
from typing import Any

from napalm.base import models

_VERSION = re.compile(r"^FRRouting (\S+) \((\S*)\) on (\w+)", re.MULTILINE)
_REPLY = re.compile(r"bytes from ([^\s:]+).*time=([\d.]+) ms")
_SENT = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_RTT = re.compile(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms")


def facts(version: str, running: str, interface_list: list[str],
          uptime: float) -> models.FactsDict:
    """NAPALM's get_facts from `show version`, the running config and the interface names."""
    match = _VERSION.search(version)
    os_version, shown_host, platform = match.groups() if match else ("", "", "")
    config = dict(ln.split(" ", 1) for ln in running.splitlines()
                  if ln.startswith(("hostname ", "domainname ")))
    hostname = config.get("hostname", shown_host)
    domain = config.get("domainname", "")
    return {
        "uptime": uptime,
        "vendor": "FRRouting",
        "os_version": os_version,
        "serial_number": "",
        "model": f"FRRouting on {platform}" if platform else "FRRouting",
        "hostname": hostname,
        "fqdn": f"{hostname}.{domain}" if domain else hostname,
        "interface_list": sorted(interface_list),
    }


def _value(items: list[dict[str, Any]] | None) -> str:
    return str(items[0].get("value", "")) if items else ""


def lldp_neighbors(json0: dict[str, Any]) -> dict[str, list[models.LLDPNeighborDict]]:
    """NAPALM's get_lldp_neighbors from `lldpcli -f json0 show neighbors`."""
    out: dict[str, list[models.LLDPNeighborDict]] = {}
    for block in json0.get("lldp", []):
        for iface in block.get("interface", []):
            for chassis, port in zip(iface.get("chassis", []), iface.get("port", []),
                                     strict=False):
                port_id = port.get("id", [{}])[0]
                name = port_id.get("value", "")
                if port_id.get("type") not in ("ifname", "local") and port.get("descr"):
                    name = _value(port["descr"])  # a MAC as port id: its description names it
                out.setdefault(iface["name"], []).append(
                    {"hostname": _value(chassis.get("name")), "port": name})
    return out


def ping(output: str) -> models.PingResultDict:
    """NAPALM's ping result from iputils `ping` output."""
    sent = _SENT.search(output)
    if not sent:
        lines = [ln for ln in output.strip().splitlines() if ln.strip()]
        return {"error": lines[-1] if lines else "ping printed nothing"}
    transmitted, received = (int(g) for g in sent.groups())
    rtt = _RTT.search(output)
    rtt_min, rtt_avg, rtt_max, rtt_mdev = (float(g) for g in rtt.groups()) if rtt else (0.0,) * 4
    return {"success": {
        "probes_sent": transmitted,
        "packet_loss": transmitted - received,
        "rtt_min": rtt_min,
        "rtt_max": rtt_max,
        "rtt_avg": rtt_avg,
        "rtt_stddev": rtt_mdev,
        "results": [{"ip_address": ip, "rtt": float(ms)} for ip, ms in _REPLY.findall(output)],
    }}
