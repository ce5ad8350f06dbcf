"""Open a NAPALM connection to a node: the scenario's inventory entry when it has one, else
the built-in lab's FRR through the local transport. Passwords are read from the environment
variable or file the inventory names, at connect time, and are never stored or printed."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.devices.vendors import FRR, BuiltInLab, VendorProfile, profile
from harness.errors import HarnessError
from harness.lab import Lab
from harness.redact import is_secret_key
from harness.validation import PathText

if TYPE_CHECKING:
    from napalm.base import NetworkDriver

LAB_HOSTS = {"localhost", "127.0.0.1", "::1"}


class DeviceSpec(BaseModel):
    """One device of the inventory; credentials only by reference."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    driver: str = Field(FRR.driver, min_length=1, examples=["eos"], description="NAPALM "
                        "driver (eos, junos, ios, frr, ...)")
    host: str = Field("localhost", examples=["core1.mgmt.example"], description="address or "
                      "name; localhost with the frr driver is the built-in lab's router of the "
                      "same name")
    username: str = Field("", examples=["netops"], description="the user NAPALM logs in as")
    password_env: str | None = Field(None, min_length=1, examples=["CORE_PW"],
                                     description="environment variable holding the password")
    password_file: PathText | None = Field(None, examples=["/etc/failover/core.pw"],
                                           description="file holding the password (first "
                                           "line)")
    optional_args: dict[str, Any] = Field({}, examples=[{"transport": "https"}],
                                          description="the driver's options; no credentials "
                                          "(secret, enable_password, ...)")

    @field_validator("host")
    @classmethod
    def _a_host(cls, v: str) -> str:
        if not v.strip() or v[0] == "-" or len(v.split()) != 1:
            raise ValueError("a device address or name: not empty, one word, not an option")
        return v

    @field_validator("optional_args")
    @classmethod
    def _no_credentials(cls, v: dict[str, Any]) -> dict[str, Any]:
        secret = next((key for key in v if is_secret_key(key)), None)
        if secret is not None:
            raise ValueError(f"optional_args.{secret} is a credential: give the password by "
                             "reference (password_env or password_file), never in the file")
        return v

    @model_validator(mode="after")
    def _one_password_source(self) -> DeviceSpec:
        if self.password_env and self.password_file:
            raise ValueError("give password_env or password_file, not both")
        return self

    @property
    def vendor(self) -> VendorProfile:
        return profile(self.driver)

    @property
    def lab_access(self) -> BuiltInLab | None:
        """How the driver reaches the built-in lab's router of the same node, when this entry
        is that router: a driver that can, on this machine, with no transport or instance
        chosen by hand (those could reach another instance, here or elsewhere)."""
        access = self.vendor.built_in_lab
        if access is None or self.host not in LAB_HOSTS or \
                access.elsewhere_args & set(self.optional_args):
            return None
        return access

    @property
    def is_lab(self) -> bool:
        """Whether this entry is the built-in lab's router of its node (see `lab_access`)."""
        return self.lab_access is not None

    def password(self) -> str:
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise HarnessError(f"device {self.host}: environment variable "
                                   f"{self.password_env} (its password) is not set")
            return value
        if self.password_file:
            try:
                return self.password_file.read_text().splitlines()[0] if \
                    self.password_file.stat().st_size else ""
            except OSError as exc:
                raise HarnessError(f"device {self.host}: password file {self.password_file}: "
                                   f"{exc.strerror}") from None
        return ""


def connect(node: str, spec: DeviceSpec | dict[str, Any] | None = None, lab: Lab | None = None
            ) -> NetworkDriver:
    """An open NAPALM driver for `node` (the caller closes it); a node of the built-in lab
    (see `DeviceSpec.is_lab`) needs that `lab`."""
    from napalm import get_network_driver  # imported here: NAPALM takes ~0.8 s to import
    spec = DeviceSpec.model_validate(spec or {})
    args = dict(spec.optional_args)
    access = spec.lab_access
    if access is not None:
        if lab is None:
            raise HarnessError(f"{node}: its device is the built-in lab's router (driver "
                               f"{spec.driver} on {spec.host}), but this network is not the "
                               "built-in lab")
        args[access.namespace_arg] = lab.ns(node)
    password = spec.password()
    try:
        driver = get_network_driver(spec.driver)(spec.host, spec.username, password,
                                                 optional_args=args)
        driver.open()
    except Exception as exc:  # NAPALM's ConnectionException and the transports' own errors
        why = str(exc).replace(password, "***") if password else str(exc)
        raise HarnessError(f"{node}: cannot connect through NAPALM {spec.driver} to "
                           f"{spec.host}: {why or type(exc).__name__}") from None
    return driver


def device_facts(node: str, spec: DeviceSpec | dict[str, Any] | None = None,
                 lab: Lab | None = None) -> dict[str, Any]:
    """`facts_of` a node, through a connection of its own."""
    driver = connect(node, spec, lab)
    try:
        return facts_of(driver, DeviceSpec.model_validate(spec or {}).driver)
    finally:
        driver.close()


def facts_of(driver: NetworkDriver, driver_name: str) -> dict[str, Any]:
    """NAPALM `get_facts` of an open driver (vendor, model, OS version, ...), and its OSPF
    neighbours as its CLI prints them, read through TextFSM (NAPALM has no OSPF getter)."""
    from harness.devices.textstate import ospf_neighbors  # TextFSM's import is not free
    facts: dict[str, Any] = driver.get_facts()
    try:
        facts["ospf_neighbors"] = [asdict(n) for n in ospf_neighbors(driver, driver_name)]
    except Exception as exc:  # no template, text it cannot read, the driver's own error
        facts["ospf_neighbors_error"] = str(exc) or type(exc).__name__
    return facts
