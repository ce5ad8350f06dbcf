"""Benchmark: CPU time to read, check and judge a scenario whose flows file (~17,700 flows) or
topology (~70,000 routers sharing one configuration) is of the largest size an input file may
have (1 MiB), best of three; the files are the bad-input tests' own
(`tests/test_scenario_bad_input.largest_scenario`). Goal (the bad-input issue): within a
second.
Run:  .venv/bin/python bench/large_inputs.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests.*

from harness.scenario.load import load_scenario  # noqa: E402
from tests.test_scenario_bad_input import largest_scenario  # noqa: E402


def main() -> None:
    for large in ("flows", "topology"):
        with tempfile.TemporaryDirectory(prefix="large-") as tmp:
            path = largest_scenario(Path(tmp), large)
            took = []
            for _ in range(3):
                start = time.process_time()
                load_scenario(path)
                took.append(time.process_time() - start)
        best = min(took)
        print(f"largest {large} file: {', '.join(f'{t:.2f}' for t in took)} s of CPU; "
              f"goal <= 1 s: {'MET' if best <= 1.0 else 'NOT MET'} (best {best:.2f} s)")


if __name__ == "__main__":
    main()
