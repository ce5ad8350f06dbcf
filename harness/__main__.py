"""`python -m harness` is the `failover` command."""

from harness.cli import main

main()
