"""The built-in lab: network namespaces joined by veth pairs, one real FRR per router."""

from harness.lab.lab import Lab

__all__ = ["Lab"]
