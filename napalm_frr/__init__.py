"""NAPALM driver for FRRouting, found by NAPALM as `get_network_driver("frr")`."""

from napalm_frr.driver import FRRDriver

__all__ = ("FRRDriver",)
