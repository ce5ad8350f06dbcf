"""The run engine every front end calls: `run_scenario` with observers (`RunObserver`) for
what a person sees, a `LabPool` for the built-in labs, and one table of exit codes."""

from harness.engine.engine import RunOptions, RunOutcome, run_scenario
from harness.engine.engine import watch as watch_flows
from harness.engine.exits import MEANING, ExitCode
from harness.engine.labs import LabPool
from harness.engine.observer import FlowNow, LineProgress, Observers, RunObserver

__all__ = ["MEANING", "ExitCode", "FlowNow", "LabPool", "LineProgress", "Observers",
           "RunObserver", "RunOptions", "RunOutcome", "run_scenario", "watch_flows"]
