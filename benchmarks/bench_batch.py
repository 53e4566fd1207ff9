"""Benchmark: batch throughput on one machine, against the 1,000-years-in-60-seconds target.

Run on demand: ``uv run python benchmarks/bench_batch.py [--years N]``.

Runs the baseline at default scale as a batch (a fresh folder each time) with 1 local worker,
2 local worker processes and a 2-worker loopback Dask ``LocalCluster``, and prints wall time,
years per second and the speed-up over one worker side by side. The 1-worker figure uses a
quarter of the years (extrapolated linearly; each run is independent). Wall time includes
worker start-up and writing the Parquet dataset.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from sim.batch import run_batch

TARGET_SECONDS_PER_1000 = 60.0


def timed(years: int, workers: int, scheduler: str | None) -> float:
    """Wall seconds for a batch of ``years`` baseline runs in a fresh folder."""
    folder = Path(tempfile.mkdtemp(prefix="kazsim-bench-"))
    try:
        start = time.perf_counter()
        result = run_batch(["baseline_2011"], replicates=years, out=folder, workers=workers, scheduler=scheduler)
        elapsed = time.perf_counter() - start
        assert len(result.runs) == years and not result.failures
        return elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Print the throughput table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=1000)
    args = parser.parse_args()
    single_years = max(args.years // 4, 10)
    rows = [
        ("1 worker (in process)", single_years, timed(single_years, 1, None)),
        ("2 local processes", args.years, timed(args.years, 2, None)),
        ("2-worker Dask LocalCluster", args.years, timed(args.years, 2, "local")),
    ]
    base_rate = rows[0][1] / rows[0][2]
    print(f"Batch of baseline_2011 years at default scale (target: 1,000 years in <= {TARGET_SECONDS_PER_1000:.0f} s "
          "with 2 workers, >= 1.8x one worker)")
    print(f"  {'executor':30s}{'years':>7s}{'wall s':>9s}{'years/s':>9s}{'s per 1000':>12s}{'vs 1 worker':>13s}")
    for name, years, seconds in rows:
        rate = years / seconds
        print(f"  {name:30s}{years:>7d}{seconds:>9.1f}{rate:>9.2f}{1000 / rate:>12.1f}{rate / base_rate:>12.2f}x")


if __name__ == "__main__":
    main()
