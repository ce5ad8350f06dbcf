"""Interfaces: state from FRR's `show interface json`, counters from the kernel (`ip -j -s`)."""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime
from typing import Any

from napalm.base import models
from napalm.base.helpers import mac

_FLAP_FORMAT = "%Y/%m/%d %H:%M:%S.%f"


def _last_flapped(data: dict[str, Any], now: float) -> float:
    """Seconds since the last link change, -1.0 when there was none (FRR: device local time)."""
    stamps = []
    for key in ("lastLinkUp", "lastLinkDown"):
        try:
            stamps.append(datetime.strptime(data[key], _FLAP_FORMAT).timestamp())
        except (KeyError, ValueError):
            continue
    return max(0.0, now - max(stamps)) if stamps else -1.0


def interfaces(show_interface: dict[str, Any],
               now: float | None = None) -> dict[str, models.InterfaceDict]:
    """NAPALM's get_interfaces from `show interface json` (speed in Mbit/s, -1 unknown)."""
    now = time.time() if now is None else now
    out: dict[str, models.InterfaceDict] = {}
    for name, data in show_interface.items():
        speed = data.get("speed")
        hw = data.get("hardwareAddress", "")
        out[name] = {
            "is_up": data.get("operationalStatus") == "up",
            "is_enabled": data.get("administrativeStatus") == "up",
            "description": data.get("description", ""),
            "last_flapped": _last_flapped(data, now),
            "mtu": int(data.get("mtu", 0)),
            "speed": float(speed) if isinstance(speed, int) and speed > 0 else -1.0,
            "mac_address": mac(hw) if hw else "",
        }
    return out


def interfaces_ip(show_interface: dict[str, Any]) -> dict[str, models.InterfacesIPDict]:
    """NAPALM's get_interfaces_ip from the `ipAddresses` of `show interface json`."""
    out: dict[str, models.InterfacesIPDict] = {}
    for name, data in show_interface.items():
        entry: dict[str, dict[str, models.InterfacesIPDictEntry]] = {}
        for addr in data.get("ipAddresses", []):
            iface = ipaddress.ip_interface(addr["address"])
            family = "ipv4" if iface.version == 4 else "ipv6"
            entry.setdefault(family, {})[str(iface.ip)] = {
                "prefix_length": iface.network.prefixlen}
        if entry:
            out[name] = entry
    return out


def counters(ip_link: list[dict[str, Any]]) -> dict[str, models.InterfaceCounterDict]:
    """NAPALM's get_interfaces_counters from `ip -j -s -s link show`.

    Linux counts received multicast (broadcast included) but does not split transmitted
    packets by cast: `tx_unicast_packets` is every transmitted packet, the other transmit
    casts and `rx_broadcast_packets` are 0.
    """
    out: dict[str, models.InterfaceCounterDict] = {}
    for link in ip_link:
        stats = link.get("stats64") or link.get("stats") or {}
        rx, tx = stats.get("rx", {}), stats.get("tx", {})
        rx_multicast = int(rx.get("multicast", 0))
        out[link["ifname"]] = {
            "tx_errors": int(tx.get("errors", 0)),
            "rx_errors": int(rx.get("errors", 0)),
            "tx_discards": int(tx.get("dropped", 0)),
            "rx_discards": int(rx.get("dropped", 0)),
            "tx_octets": int(tx.get("bytes", 0)),
            "rx_octets": int(rx.get("bytes", 0)),
            "tx_unicast_packets": int(tx.get("packets", 0)),
            "rx_unicast_packets": int(rx.get("packets", 0)) - rx_multicast,
            "tx_multicast_packets": 0,
            "rx_multicast_packets": rx_multicast,
            "tx_broadcast_packets": 0,
            "rx_broadcast_packets": 0,
        }
    return out
