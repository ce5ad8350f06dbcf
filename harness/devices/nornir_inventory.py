"""Devices from a Nornir inventory: SimpleInventory files, or the NetBox plugin where it is
installed. Nornir itself reads the inventory (group and defaults inheritance are its own); each
host named as a router of the topology becomes a `DeviceSpec`. Nornir is imported only here,
only when a scenario names an inventory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from harness.devices.inventory import DeviceSpec
from harness.errors import InputError
from harness.redact import is_secret_key
from harness.yamlsrc import LineDict, LineList, Loc, field_name, line_at, load_yaml

if TYPE_CHECKING:
    from nornir.core.inventory import Host, Inventory

    from harness.scenario.model import NornirSource

FILES = ("hosts", "groups", "defaults")
REFERENCES = ("password_env", "password_file")
ABSENT = Path(os.devnull, "absent.yaml")  # a file not given: one that cannot exist
NORNIR_FIELDS = {"driver": "platform", "host": "hostname", "username": "username",
                 "optional_args": "connection_options.napalm.extras.optional_args",
                 "password_env": "data.password_env", "password_file": "data.password_file"}
Where = tuple[Path, int | None, str]  # the file, line and field an error names


def nornir_devices(scenario: Path, where: Where, source: NornirSource,
                   nodes: set[str]) -> dict[str, DeviceSpec]:
    """The inventory's hosts among `nodes`, as devices; `where` is the scenario's `inventory`
    (named by errors that no inventory file holds)."""
    files = {key: scenario.parent / name for key in FILES
             if (name := getattr(source, key)) is not None}
    docs = {key: _checked(key, file) for key, file in files.items()}
    _refuse_unknown_groups(files, docs)
    load = _plugin(source, files, where) if source.plugin else _simple(files)
    try:
        inventory = load()
    except Exception as exc:  # Nornir's or the plugin's: a value of the wrong type, NetBox down
        raise InputError(*where, f"Nornir cannot read the inventory: "
                         f"{str(exc) or type(exc).__name__}") from None
    hosts = docs.get("hosts")
    return {name: _device(host, (files["hosts"], hosts.line_of(name), field_name((name,)))
                          if hosts else (where[0], where[1], f"{where[2]}.{name}"))
            for name, host in inventory.hosts.items() if name in nodes}


def _checked(key: str, file: Path) -> LineDict:
    """An inventory file read as the harness reads any input (bounded, strict YAML): a
    mapping, each host or group a mapping, no credential anywhere."""
    doc = load_yaml(file)
    if not isinstance(doc, LineDict):
        raise InputError(file, 1, "", f"a Nornir {key} file is a mapping")
    if key != "defaults":
        for name, entry in doc.items():
            if not isinstance(entry, LineDict):
                raise InputError(file, doc.line_of(name), field_name((name,)), "a Nornir "
                                 f"{key[:-1]} is a mapping (hostname, platform, groups, data)")
    _refuse_credentials(file, doc)
    return doc


def _refuse_unknown_groups(files: dict[str, Path], docs: dict[str, LineDict]) -> None:
    """Each host's or group's `groups` is a list of the groups file's groups (Nornir would
    fail on a key)."""
    known: dict[str, Any] = docs.get("groups", {})
    for key in ("hosts", "groups"):
        for name, entry in docs.get(key, {}).items():
            named = entry.get("groups") or []
            missing = [g for g in named if g not in known] if isinstance(named, list) else None
            if missing is None or missing:
                given = "groups" in files
                raise InputError(files[key], entry.line_of("groups"), field_name((name, "groups")),
                                 "a list of group names" if missing is None else
                                 f"no group {missing[0]!r} in the groups file" if given else
                                 f"group {missing[0]!r}, but no groups file is given")


def _refuse_credentials(file: Path, doc: LineDict | LineList, at: Loc = ()) -> None:
    items = doc.items() if isinstance(doc, LineDict) else enumerate(doc)
    for key, value in items:
        if isinstance(key, str) and is_secret_key(key):
            raise InputError(file, line_at(doc, (key,)), field_name((*at, key)), "a credential "
                             "must not be written in an inventory: give the password by "
                             "reference, data: {password_env: VAR} or {password_file: FILE}")
        if isinstance(value, LineDict | LineList):
            _refuse_credentials(file, value, (*at, key))


def _simple(files: dict[str, Path]) -> Callable[[], Inventory]:
    from nornir.plugins.inventory.simple import SimpleInventory
    simple = SimpleInventory(str(files["hosts"]), str(files.get("groups", ABSENT)),
                             str(files.get("defaults", ABSENT)))
    return simple.load


def _plugin(source: NornirSource, files: dict[str, Path], where: Where
            ) -> Callable[[], Inventory]:
    """The plugin's loader, its token read from the environment variable named."""
    from nornir.core.exceptions import PluginNotRegistered
    from nornir.core.plugins.inventory import InventoryPluginRegister
    InventoryPluginRegister.auto_register()
    try:
        plugin = InventoryPluginRegister.get_plugin(str(source.plugin))
    except PluginNotRegistered:
        raise InputError(*where, f"the Nornir inventory plugin {source.plugin} is not "
                         "installed (pip install nornir-netbox)") from None
    variable = source.token_env or "NB_TOKEN"
    token = os.environ.get(variable)
    if not token:
        raise InputError(*where, f"environment variable {variable} (the NetBox token) is not "
                         "set")
    return lambda: plugin(**source.options, nb_token=token,
                          group_file=str(files.get("groups", ABSENT)),
                          defaults_file=str(files.get("defaults", ABSENT))).load()


def _device(host: Host, where: Where) -> DeviceSpec:
    """A host as NAPALM reaches it (Nornir's `napalm` connection options over the host's own):
    platform the driver, hostname (default: its name), username, port and `extras.
    optional_args`; the password by reference from its data (`_password_reference`)."""
    napalm = host.get_connection_parameters("napalm")
    if not napalm.platform:
        raise InputError(*where, "no platform (the NAPALM driver: eos, junos, ios, ...) on the "
                         "host, its groups or the defaults")
    extras = napalm.extras if isinstance(napalm.extras, dict) else {}
    args: Any = extras.get("optional_args") or {}
    if napalm.port is not None and isinstance(args, dict):
        args = {"port": napalm.port, **args}
    refs = _password_reference(host)
    try:
        device = DeviceSpec.model_validate({
            "driver": napalm.platform, "host": napalm.hostname or host.name,
            "username": napalm.username or "", "optional_args": args, **refs})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = NORNIR_FIELDS.get(str(err["loc"][0]), "") if err["loc"] else ""
        raise InputError(where[0], where[1], f"{where[2]}.{field}".rstrip("."),
                         str(err["msg"]).removeprefix("Value error, ")) from None
    if device.is_lab:
        raise InputError(*where, "the built-in lab's FRR (frr on localhost) cannot come from "
                         "an inventory")
    return device


def _password_reference(host: Host) -> dict[str, Any]:
    """`password_env` or `password_file` from the nearest data that gives one, as Nornir
    inherits data (the host's, its groups' in order, the defaults'): a host's password_file
    overrides its group's password_env."""
    for data in (host.data, *(g.data for g in host.extended_groups()), host.defaults.data):
        refs = {key: data[key] for key in REFERENCES if isinstance(data, dict) and
                data.get(key) is not None}
        if refs:
            return refs
    return {}
