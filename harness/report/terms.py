"""What the report's measures mean, printed in every report: the harness's own beside the
industry's (RFC 6412's terminology for data-plane convergence, traffic generators' recovery
time). Each is computed from results.json alone."""

from __future__ import annotations

from html import escape

DEFINITIONS = (
    ("Probe", "A UDP or TCP packet with the application's ports and DSCP, sent at the flow's "
     "offered rate (e.g. 1000 per second), numbered and time-stamped by its sender, time-stamped "
     "again by the receiving host's kernel."),
    ("Failover, failback", "Failover: from the start of the clean baseline window (the fault "
     "waited for every flow to lose nothing for that long) to the restore. Failback: from the "
     "restore to the end of the run. A loss is counted in the phase in which it starts."),
    ("Outage ms (RFC 6412)", "RFC 6412's Loss-Derived Convergence Time, per flow direction and "
     "phase: probes lost in the phase divided by the offered rate (lost packets / packets per "
     "second). This is what each SLA is judged on."),
    ("Outage window", "A run of consecutive probes that never arrived: from the send time of the "
     "first lost probe to the send time of the first probe received after it."),
    ("Recovered after ms", "Per flow direction and phase: from the fault (failover) or the "
     "restore (failback) to the end of the direction's last outage window in that phase."),
    ("Fault to every flow delivering again", "From the fault's start (its stamp: the instant "
     "the harness began the change) to the first instant after which every flow direction, "
     "critical or not, delivered every probe until the restore: the latest end of their "
     "failover outage windows; 0 when none lost a probe. This is the convergence time traffic "
     "generators report, measured on the data plane; the routers are not read while the fault "
     "holds. 'not seen' when a direction was still losing at the restore."),
    ("Restore to every flow delivering again", "The same from the restore's stamp, to the end "
     "of the run: the latest end of the failback outage windows."),
    ("Restore to the network seen converged", "From the restore's stamp to the instant the "
     "harness's convergence check passed (every router answering, every adjacency of the "
     "topology up, routes settled and as before the run): the control plane was back by then. "
     "The check runs from the restore on, beside the failback watch: an upper bound, late by "
     "about one round of its readings."),
    ("Fault to full recovery", "From the fault's stamp to the first instant after which every "
     "flow direction delivers every probe to the end of the run and the network is known "
     "converged: control plane and data plane. It includes the time the fault was held, and is "
     "bounded as the convergence above is."),
    ("Critical flow", "A flow whose directions are judged against their SLA; the others are "
     "measured and shown for information."),
    ("Control scenario", "A scenario expected to miss its SLA (for example both cores down): "
     "it shows the measurement can fail. Its outcome is as expected when it misses."),
    ("Outcome as expected", "The run went to its end, every fault was restored, every router "
     "is back as before, the measurement was sound, and every critical flow met its SLA (for a "
     "control scenario: at least one missed)."),
)


def definitions() -> str:
    """The definitions as an HTML description list."""
    return '<dl class="definitions">' + "".join(
        f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in DEFINITIONS) \
        + "</dl>"
