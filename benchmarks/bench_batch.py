"""Benchmark: batch throughput on one machine, against the 1,000-years-in-60-seconds target.

Run on demand: ``uv run python benchmarks/bench_batch.py [--years N] [--rounds R]``.

Runs the baseline at default scale as a batch (a fresh folder each time) with 1 local worker,
2 local worker processes, a 1-worker loopback Dask ``LocalCluster``, a 2-worker one with one run per
task (how batches ran on Dask before runs were grouped) and the same cluster with several runs per
task (the default), and prints wall time, years per second and the speed-up over one worker side by
side, the Dask ratio beside the local-process ratio. The 1-worker figures use a quarter of the years
(extrapolated linearly; each run is independent). Wall time includes worker (and cluster) start-up
and writing the Parquet dataset. Beside it, the steady pace: years per second while the middle 80 %
of the runs came in, without start-up (spawning workers, importing, a cluster's scheduler) and the
last runs, which is what a batch many times longer would approach.

Timings on a shared machine are noisy: the executors are measured in alternation, ``--rounds``
times, each round in a rotated order, and the median of the rounds is reported with the spread, beside the
median of each round's own ratio to that round's one worker (less exposed to the machine's drift between rounds).
Beside wall time it reports the CPU time each executor spent per 1,000 years (this process and every
worker, scheduler and nanny process it started, all waited for): other users' load slows the wall
clock but hardly the CPU time a year costs, so the CPU ratio to one worker shows each executor's own
overhead, and 2 x that ratio the speed-up two free cores would allow.
"""

from __future__ import annotations

import argparse
import math
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sim.batch import BatchProgress, run_batch

TARGET_SECONDS_PER_1000 = 60.0
#: name: (share of the years, workers, scheduler, runs per task)
EXECUTORS: dict[str, tuple[float, int, str | None, int | None]] = {
    "1 worker (in process)": (0.25, 1, None, None),
    "2 local processes": (1.0, 2, None, None),
    "1-worker Dask": (0.25, 1, "local", None),
    "2-worker Dask, 1 run per task": (1.0, 2, "local", 1),
    "2-worker Dask, runs grouped": (1.0, 2, "local", None),
}


def cpu_seconds() -> float:
    """CPU time of this process and of every child process it has waited for (workers, nannies), user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(years: int, workers: int, scheduler: str | None, runs_per_task: int | None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and steady years per second for a batch of ``years`` baseline runs in a fresh folder.

    The steady pace is the middle 80 % of the runs over the time they took to come in (a Dask task's runs come in
    together, so it is exact to within one task; not a number when they all came in at once).
    """
    folder = Path(tempfile.mkdtemp(prefix="kazsim-bench-"))
    arrivals: list[float] = []

    def arrived(counts: BatchProgress) -> None:
        arrivals.extend([time.perf_counter()] * (counts.done - len(arrivals)))

    try:
        start, cpu = time.perf_counter(), cpu_seconds()
        result = run_batch(["baseline_2011"], replicates=years, out=folder, workers=workers, scheduler=scheduler,
                           runs_per_task=runs_per_task, progress=arrived)
        elapsed, spent = time.perf_counter() - start, cpu_seconds() - cpu
        assert len(result.runs) == years and not result.failures
        low, high = years // 10, years - years // 10 - 1
        span = arrivals[high] - arrivals[low]
        return elapsed, spent, (high - low) / span if span > 0 else math.nan
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Print the throughput table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    names = list(EXECUTORS)
    rates: dict[str, list[float]] = {name: [] for name in names}
    steady: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(args.rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            share, workers, scheduler, per_task = EXECUTORS[name]
            years = max(int(args.years * share), 10)
            wall, spent, pace = timed(years, workers, scheduler, per_task)
            rates[name].append(years / wall)
            steady[name].append(pace)
            cpu[name].append(1000 * spent / years)
            print(f"  round {round_index + 1}: {name}: {rates[name][-1]:.1f} years/s ({pace:.1f} steady), "
                  f"{cpu[name][-1]:.0f} CPU s per 1000 years", flush=True)
    median = {name: statistics.median(values) for name, values in rates.items()}
    steady_median = {name: statistics.median(values) for name, values in steady.items()}
    cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
    one, dask_one = "1 worker (in process)", "1-worker Dask"
    local, grouped, single = "2 local processes", "2-worker Dask, runs grouped", "2-worker Dask, 1 run per task"
    base, base_steady, base_cpu = median[one], steady_median[one], cpu_median[one]
    print(f"\nBatch of baseline_2011 years at default scale, median of {args.rounds} alternating rounds (target: "
          f"1,000 years in <= {TARGET_SECONDS_PER_1000:.0f} s with 2 workers, >= 1.8x one worker)")
    print(f"  {'executor':32s}{'years/s':>9s}{'range':>13s}{'s per 1000':>12s}{'vs 1 worker':>13s}"
          f"{'steady y/s':>12s}{'steady vs 1':>13s}{'CPU s/1000':>12s}{'2 free cores':>14s}")
    for name in names:
        low, high = min(rates[name]), max(rates[name])
        cores = EXECUTORS[name][1]
        parallel = cores * base_cpu / cpu_median[name]
        print(f"  {name:32s}{median[name]:>9.1f}{f'{low:.1f}-{high:.1f}':>13s}{1000 / median[name]:>12.1f}"
              f"{median[name] / base:>12.2f}x{steady_median[name]:>12.1f}{steady_median[name] / base_steady:>12.2f}x"
              f"{cpu_median[name]:>12.0f}{parallel:>13.2f}x")
    print(f"\n  2 workers vs 1, measured: local processes {median[local] / base:.2f}x, "
          f"Dask {median[grouped] / base:.2f}x (Dask with 1 run per task {median[single] / base:.2f}x)")
    print(f"  2 workers vs 1, steady pace: local processes {steady_median[local] / base_steady:.2f}x, Dask "
          f"{steady_median[grouped] / base_steady:.2f}x (Dask with 1 run per task "
          f"{steady_median[single] / base_steady:.2f}x)")
    paired = {name: [rates[name][i] / rates[one][i] for i in range(args.rounds)] for name in (local, grouped)}
    print("  2 workers vs 1, each round's own ratio (the machine's speed drifts between rounds): "
          + ", ".join(f"{label} {statistics.median(paired[name]):.2f}x median, {min(paired[name]):.2f}x-"
                      f"{max(paired[name]):.2f}x" for label, name in (("local processes", local), ("Dask", grouped))))
    print(f"  2-worker Dask vs 1-worker Dask: {median[grouped] / median[dask_one]:.2f}x measured, "
          f"{steady_median[grouped] / steady_median[dask_one]:.2f}x steady")
    bound = {name: 2 * base_cpu / cpu_median[name] for name in (local, grouped, single)}
    print(f"  2 workers vs 1, CPU-bound (2 x one worker's CPU per year / the executor's): local processes "
          f"{bound[local]:.2f}x, Dask {bound[grouped]:.2f}x (Dask with 1 run per task {bound[single]:.2f}x)")


if __name__ == "__main__":
    main()
