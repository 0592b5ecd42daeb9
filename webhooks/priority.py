"""The sender's process below every ordinary one (`manage.py runwebhooks`)."""

from __future__ import annotations

import os

# The sender's process runs in Linux's idle scheduling class (SCHED_IDLE), its threads with it:
# where it shares cores with the servers, a server that wakes takes the core at once and
# deliveries run on what is left (most of it). Where that class is missing or refused, at this
# niceness. Not done to the server's own sender threads: a lowered thread that holds the GIL
# when preempted keeps the event loop waiting (measured worse). docs/DECISIONS.md, issue 15.
SENDER_NICENESS = 10


def yield_cores() -> str:
    """Lower this process (and the threads it starts afterwards) below every ordinary one; says
    which way it was done."""
    if hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle scheduling class"
        except OSError:
            pass
    os.nice(SENDER_NICENESS)
    return f"niceness {SENDER_NICENESS}"
