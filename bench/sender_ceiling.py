"""Benchmark: what bounds the probe rate on this machine, below the probe engine.

One process in h1 of a bare veth pair (bench/topologies/probe-pair.clab.yml) sends the same
prebuilt UDP frame (scapy) to h2 as fast as it can for a few seconds, two ways:

- `sendmmsg`: 1,024 frames per call on an AF_PACKET socket, as the probe sender sends (but
  without patching sequence numbers and times into each frame, which the sender does);
- `tx-ring`: a PACKET_TX_RING (TPACKET_V2) of 4,096 slots, all handed to the kernel at once
  (numpy writes their headers), one `send()` per ring, the frames never copied again.

h2 runs no receiver, only a UDP socket bound to the port with a 4 KB buffer, as the probe
receiver's sinks (without it every frame costs an ICMP port-unreachable). Its kernel counts
the frames the veth delivered (rx_packets) and drops them at that full socket. The rates are
what a sender doing no work of its own reaches here; the probe engine's own limit is
`probe_capacity.py`'s. Issue 16 asks whether 1,000 flows x 1 kpps (1M pps) is in reach, and
suggests measuring a TX ring.
Run as root:  .venv/bin/python bench/sender_ceiling.py [--seconds 5] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from harness.lab import Lab
from harness.topology import load_topology

TOPOLOGY = Path(__file__).resolve().parent / "topologies/probe-pair.clab.yml"
PAYLOAD = 64  # bytes after the UDP header, about a probe's

# Runs in h1's namespace: argv method, seconds, frame (hex), interface; prints a JSON line.
SENDER = r'''
import ctypes, json, mmap, resource, socket, struct, sys, time
method, seconds, ifname = sys.argv[1], float(sys.argv[2]), sys.argv[4]
frame = bytes.fromhex(sys.argv[3])
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)  # as the probe sender's
sock.bind((ifname, 0))
sent, end = 0, time.monotonic() + seconds
if method == "sendmmsg":
    from harness.probes.control import LIBC as libc  # the probe sender's own structures
    from harness.probes.sender import _Iovec, _Mmsghdr
    buf = ctypes.create_string_buffer(frame, len(frame))
    iov = _Iovec(ctypes.cast(buf, ctypes.c_void_p), len(frame))
    batch = (_Mmsghdr * 1024)()
    for m in batch:
        m.hdr.iov, m.hdr.iovlen = ctypes.pointer(iov), 1
    while time.monotonic() < end:
        n = libc.sendmmsg(sock.fileno(), batch, 1024, 0)
        sent += max(n, 0)
else:  # PACKET_TX_RING, TPACKET_V2
    SOL_PACKET, PACKET_VERSION, PACKET_TX_RING, TPACKET_V2 = 263, 10, 13, 1
    SEND_REQUEST = 1  # a slot's tp_status; 0 (available) once the kernel sent it
    FRAME, FRAMES = 2048, 4096
    sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
    per_block = (1 << 20) // FRAME  # struct tpacket_req: block size, blocks, frame size, frames
    sock.setsockopt(SOL_PACKET, PACKET_TX_RING,
                    struct.pack("IIII", 1 << 20, FRAMES // per_block, FRAME, FRAMES))
    ring = mmap.mmap(sock.fileno(), FRAME * FRAMES, mmap.MAP_SHARED,
                     mmap.PROT_READ | mmap.PROT_WRITE)
    data = 32  # TPACKET2_HDRLEN (32) less the sockaddr_ll part, aligned to 16: tp_mac offset
    for i in range(FRAMES):
        ring[i * FRAME + data:i * FRAME + data + len(frame)] = frame
    import numpy as np  # the slots' headers written all at once (a Python loop: ~1 us each)
    words = np.frombuffer(ring, dtype=np.uint32).reshape(FRAMES, FRAME // 4)
    words[:, 1] = words[:, 2] = len(frame)  # tp_len, tp_snaplen; tp_status is word 0
    while time.monotonic() < end:
        while words[:, 0].any() and time.monotonic() < end + 1:
            pass  # until the kernel sent every slot of the last round
        words[:, 0] = SEND_REQUEST
        sock.send(b"")
        sent += FRAMES
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"sent": sent, "cpu": usage.ru_utime + usage.ru_stime}))
'''


def rx_packets(lab: Lab, node: str) -> tuple[int, int]:
    """The node's eth1 receive counters: packets, dropped."""
    [link] = json.loads(lab.run(node, ["ip", "-s", "-j", "link", "show", "dev", "eth1"]))
    rx = link["stats64"]["rx"]
    return int(rx["packets"]), int(rx["dropped"])


SINK = ("import socket, sys, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); s.bind(('0.0.0.0', 9)); "
        "print('bound', flush=True); sys.stdin.read()")


def one(lab: Lab, method: str, seconds: float, frame: bytes) -> dict[str, float]:
    sink = subprocess.Popen(["ip", "netns", "exec", lab.ns("h2"), sys.executable, "-c", SINK],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "bound"
        return _send(lab, method, seconds, frame)
    finally:
        sink.kill()
        sink.wait()


def _send(lab: Lab, method: str, seconds: float, frame: bytes) -> dict[str, float]:
    before = rx_packets(lab, "h2")
    out = subprocess.run(["ip", "netns", "exec", lab.ns("h1"), sys.executable, "-c", SENDER,
                          method, str(seconds), frame.hex(), "eth1"],
                         capture_output=True, text=True, check=True)
    after = rx_packets(lab, "h2")
    result = json.loads(out.stdout)
    return {"sent pps": result["sent"] / seconds,
            "h2 received pps": (after[0] - before[0]) / seconds,
            "h2 dropped": after[1] - before[1], "sender CPU": result["cpu"] / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    lab = Lab(load_topology(TOPOLOGY))
    lab.down()
    lab.up()
    try:
        macs = {n: json.loads(lab.run(n, ["ip", "-j", "link", "show", "dev", "eth1"]))[0]
                ["address"] for n in ("h1", "h2")}
        frame = bytes(Ether(src=macs["h1"], dst=macs["h2"])
                      / IP(src="198.18.100.1", dst="198.18.100.2")
                      / UDP(sport=40000, dport=9) / Raw(b"\0" * PAYLOAD))
        print(f"{len(frame)}-byte frames, {args.seconds:g} s per run")
        print(f"{'method':<10}{'sent pps':>12}{'h2 received pps':>17}{'h2 dropped':>12}"
              f"{'sender CPU':>12}")
        best = 0.0
        for _ in range(args.runs):
            for method in ("sendmmsg", "tx-ring"):
                r = one(lab, method, args.seconds, frame)
                best = max(best, r["h2 received pps"])
                print(f"{method:<10}{r['sent pps']:>12.0f}{r['h2 received pps']:>17.0f}"
                      f"{r['h2 dropped']:>12.0f}{r['sender CPU']:>11.0%}", flush=True)
    finally:
        lab.down()
    print(f"\nthe most h2's kernel took in: {best:.0f} pps from one sender doing no work of "
          f"its own; 1,000 flows x 1 kpps = 1,000,000 pps: "
          f"{'in reach' if best >= 1_000_000 else 'NOT in reach'} on this machine")


if __name__ == "__main__":
    main()
