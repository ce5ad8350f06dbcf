"""Built-in labs a front end's runs share: brought up when a run needs one, taken down when the
front end is done with them (the CLI after its run, the pytest plugin after its session)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import TracebackType

from harness.engine.observer import RunObserver
from harness.lab import Lab
from harness.topology import Topology


class LabPool:
    """`with LabPool() as labs: labs.lab_for(topology)`; a lab that was already up when first
    asked for is left up; one this pool brought up is taken down on exit unless `keep`. With
    a `suffix` (a pytest-xdist worker's id), each lab is named `<topology>-<suffix>`: pools
    running side by side never share a lab or a namespace."""

    def __init__(self, keep: bool = False, suffix: str | None = None) -> None:
        self.keep = keep
        self.suffix = suffix
        self._labs: dict[Path, Lab] = {}
        self._brought_up: list[Lab] = []

    def __enter__(self) -> LabPool:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def lab_for(self, topology: Topology, observer: RunObserver) -> Lab:
        """The topology's lab, up and converged."""
        if topology.path not in self._labs:
            self._labs[topology.path] = Lab(dataclasses.replace(
                topology, name=f"{topology.name}-{self.suffix}") if self.suffix else topology)
        lab = self._labs[topology.path]
        if not lab.is_up():
            observer.phase("lab", f"bringing up lab {lab.name}")
            lab.up(progress=lambda line: observer.phase("lab", line))
            self._brought_up.append(lab)
        return lab

    def close(self) -> None:
        """Take down the labs this pool brought up (unless `keep`)."""
        while self._brought_up and not self.keep:
            self._brought_up.pop().down()
