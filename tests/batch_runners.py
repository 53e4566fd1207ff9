"""Runners for batch tests, imported by name in spawned worker processes (monkeypatching does not reach them)."""

from __future__ import annotations

import os
import signal

from sim.batch import RunOutcome, RunSpec, run_one

#: The run that takes its worker process down.
VICTIM = ("no_sweeps", 2012)
#: Environment variable naming a file to which every attempt appends "scenario seed".
ATTEMPTS_LOG = "KAZSIM_TEST_ATTEMPTS_LOG"


def kill_worker_on_victim(spec: RunSpec) -> RunOutcome:
    """Run the spec, except ``VICTIM``, which SIGKILLs its own worker process (as the OOM killer would)."""
    log = os.environ.get(ATTEMPTS_LOG)
    if log:
        with open(log, "a", encoding="utf-8") as stream:  # appends of one short line are atomic
            stream.write(f"{spec.name} {spec.seed}\n")
    if (spec.name, spec.seed) == VICTIM:
        os.kill(os.getpid(), signal.SIGKILL)
    return run_one(spec)


def raise_on_victim(spec: RunSpec) -> RunOutcome:
    """Run the spec, except ``VICTIM``, whose runner raises: the whole Dask task that holds it fails."""
    if (spec.name, spec.seed) == VICTIM:
        raise RuntimeError("the runner failed on purpose")
    return run_one(spec)
