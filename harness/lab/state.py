"""The lab's journal on disk: written before anything is created, so `down` always knows."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.lab.names import STATE_DIR, state_file


@dataclass
class LabState:
    name: str
    topology: str
    namespaces: dict[str, str]
    routers: list[str]
    phase: str = "building"  # building -> up
    started: float = 0.0
    notes: list[str] = field(default_factory=list)
    ospf_links: list[str] = field(default_factory=list)  # adjacencies at first convergence
    fibs: dict[str, str] = field(default_factory=dict)  # each router's routes then

    def save(self) -> None:
        path = state_file(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, name: str) -> LabState | None:
        path = state_file(name)
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text()))

    @staticmethod
    def remove(name: str) -> None:
        state_file(name).unlink(missing_ok=True)


def running_labs() -> list[str]:
    return sorted(p.stem for p in Path(STATE_DIR).glob("*.json"))
