"""The probe header every probe packet carries after its UDP/TCP header (stdlib only).

    magic "FOPB" | flow id u32 | sequence u32 | send time u64 (ns, CLOCK_REALTIME)

A flow id is a random tag per probe run (high 16 bits) and the direction's index (low 16):
receivers see every probe that reaches their host, and two runs sharing a host each count
only their own.

Receivers write one record per packet: flow id, sequence, send time, kernel receive time,
after STREAM_START (a login shell on a remote host may print something first).
"""

from __future__ import annotations

import struct

MAGIC = 0x464F5042  # "FOPB"
HEADER = struct.Struct(">IIIQ")
SEQ_TIME = struct.Struct(">IQ")  # patched into the template at header offset + 8
RECORD = struct.Struct("<IIQQ")
STREAM_START = b"\x00FOPB-records-v1\x00"
SEQ_MODULO = 1 << 32
