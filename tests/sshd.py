"""A throw-away sshd inside a lab namespace, for the tests of what the harness does over SSH.

Authentication is by a temporary client key; the host key is temporary too, and written to
a known_hosts file, so clients check it as they would in the field. Clients reach the server
through `relay()`: a ProxyCommand that relays TCP from inside a lab namespace (no route to
the lab exists in the root namespace).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

RELAY = """
import os, socket, sys, threading
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.settimeout(None)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as ssh itself: no Nagle stalls
def up():
    while (d := os.read(0, 65536)):
        s.sendall(d)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while (d := s.recv(65536)):
    os.write(1, d)
"""


@contextlib.contextmanager
def sshd(netns: str, tmp: Path, listen: list[str], extra_config: str = "",
         nsenter: list[str] | None = None) -> Iterator[Path]:
    """Run sshd in `netns` on `listen` (host:port) until the block ends; yields its folder
    (`client` key, `known_hosts`, `relay.py`)."""
    if not Path("/usr/sbin/sshd").exists():
        raise RuntimeError("the SSH tests need openssh-server (/usr/sbin/sshd)")
    for key in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / key)],
                       check=True)
    shutil.copy(tmp / "client.pub", tmp / "authorized_keys")
    host_key = (tmp / "host.pub").read_text().split()[:2]
    (tmp / "known_hosts").write_text("".join(
        f"[{a.rsplit(':', 1)[0]}]:{a.rsplit(':', 1)[1]} {' '.join(host_key)}\n" for a in listen))
    (tmp / "relay.py").write_text(RELAY)
    (tmp / "sshd_config").write_text("".join(f"ListenAddress {a}\n" for a in listen)
                                     + textwrap.dedent(f"""\
        HostKey {tmp}/host
        PidFile {tmp}/sshd.pid
        AuthorizedKeysFile {tmp}/authorized_keys
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        """) + textwrap.dedent(extra_config))
    # sshd refuses to start (and each connection's re-executed sshd to serve) without it. It
    # is left in place: an sshd of another test worker may be using it, and removing it made
    # that one's next connection fail ("Connection closed" at key exchange). It is the
    # system's own sshd's directory, empty, in /run.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    proc = subprocess.Popen(["ip", "netns", "exec", netns, *(nsenter or []), "/usr/sbin/sshd",
                             "-D", "-e", "-f", str(tmp / "sshd_config")],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for _ in listen:  # one "Server listening" line per address
            line = proc.stderr.readline()
            assert "Server listening" in line, line
        yield tmp
    finally:
        proc.kill()
        proc.wait()


def relay(netns: str, tmp: Path, host: str, port: int) -> str:
    """A ProxyCommand reaching host:port from inside `netns`."""
    return f"ip netns exec {netns} {sys.executable} {tmp}/relay.py {host} {port}"
