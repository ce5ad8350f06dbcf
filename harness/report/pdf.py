"""A report printed to PDF by headless Chromium (Debian's `chromium`, installed by
scripts/install.sh), with the report's own print stylesheet: A4, no header or footer."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from harness.errors import HarnessError

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_S = 60
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-pdf-header-footer")


def print_pdf(html: Path, pdf: Path) -> None:
    """Print `html` (a local file) to `pdf`; raises HarnessError with Chromium's last words."""
    if not CHROMIUM.is_file():
        raise HarnessError(f"{CHROMIUM} is missing: apt-get install chromium "
                           "(or run scripts/install.sh)")
    pdf.unlink(missing_ok=True)
    profile = tempfile.mkdtemp(prefix="failover-pdf-")
    argv = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf.resolve()}", html.resolve().as_uri()]
    # its own session: on a timeout the browser and every helper it started go together
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "XDG_CONFIG_HOME": profile})
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        out, _ = proc.communicate()
        raise HarnessError(f"Chromium did not print {html} within {TIMEOUT_S} s") from None
    finally:
        _kill_group(proc.pid)  # helpers left behind (crash handler), if any
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0 or not pdf.is_file() or not pdf.stat().st_size:
        tail = " | ".join(out.strip().splitlines()[-2:])
        raise HarnessError(f"Chromium could not print {html} (exit {proc.returncode}): {tail}")


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
