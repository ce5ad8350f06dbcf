"""The shape of a containerlab topology file, checked before it is read: types, and keys that
neither containerlab nor the built-in lab knows (a misspelt `kindd:` is refused, not ignored)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

# node keys of containerlab that need a container engine: accepted, reported once as a note
CONTAINER_KEYS = {
    "image": "the built-in lab runs this host's FRR, not container images",
    "mgmt-ipv4": "no management network in the built-in lab",
    "mgmt-ipv6": "no management network in the built-in lab",
    "ports": "no port publishing in the built-in lab",
    "env": "no container environment in the built-in lab",
    "cmd": "no container command in the built-in lab",
    "entrypoint": "no container entrypoint in the built-in lab",
    "cpu": "no resource limits in the built-in lab",
    "memory": "no resource limits in the built-in lab",
    **dict.fromkeys(("type", "license", "image-pull-policy", "startup-delay", "auto-remove",
                     "restart-policy", "enforce-startup-config", "suppress-startup-config",
                     "publish", "env-files", "user", "cpu-set", "shm-size", "sysctls",
                     "network-mode", "runtime", "devices", "cap-add", "dns", "healthcheck",
                     "wait-for", "aliases", "stages", "certificate", "components"),
                    "a container setting, not used by the built-in lab"),
}


def _scalar(value: Any) -> Any:
    if not isinstance(value, str | int | float | bool):
        raise ValueError("a label's value is a string or a number")
    return value


class _Clab(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


class FrrExtras(_Clab):
    daemons: list[str] | None = None


class Extras(_Clab):
    model_config = ConfigDict(extra="allow")  # other kinds' extras (srl-agents, ...)
    frr: FrrExtras | None = None


class NodeSettings(_Clab):
    """What a node, a group, a kind or `defaults` may set."""

    kind: str | None = None
    group: str | None = None
    startup_config: str | None = Field(None, alias="startup-config")
    binds: list[str] | None = None
    labels: dict[str, Annotated[Any, AfterValidator(_scalar)]] | None = None
    exec: list[str] | None = None
    extras: Extras | None = None

    @model_validator(mode="before")
    @classmethod
    def _container_keys(cls, data: Any) -> Any:
        """Keys for a container engine are checked no further (the reader notes them)."""
        if isinstance(data, dict) and not CONTAINER_KEYS.keys().isdisjoint(data):
            return {k: v for k, v in data.items() if k not in CONTAINER_KEYS}
        return data


class LinkSettings(_Clab):
    type: str = "veth"
    endpoints: list[Any]  # `node:ifname` or {node, interface, mac}: the reader checks each
    mtu: int | None = Field(None, ge=68, le=65535, description="IPv4 needs 68; veth's maximum")
    vars: Any = None
    labels: Any = None


class Section(_Clab):
    nodes: dict[str, NodeSettings | None] = Field(min_length=1)
    kinds: dict[str, NodeSettings] = {}
    groups: dict[str, NodeSettings] = {}
    defaults: NodeSettings | None = None
    links: list[LinkSettings] = []


class ClabFile(_Clab):
    name: str
    prefix: Any = None
    mgmt: Any = None
    settings: Any = None
    topology: Section
