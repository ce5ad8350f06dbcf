"""Network-core failover test harness."""

__version__ = "0.1.0"
