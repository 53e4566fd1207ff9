"""The benchmarks print what their targets are judged on (the timings themselves are not asserted: see benchmarks/)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_BATCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_batch.py"
ONE, LOCAL, DASK = "1 worker (in process)", "2 local processes", "2-worker Dask, runs grouped"


def table_row(output: str, name: str) -> list[str]:
    """The summary table's cells for one executor (the name fills the first 32 columns after the indent)."""
    rows = [line[34:].split() for line in output.splitlines() if line[2:34].strip() == name]
    assert len(rows) == 1, f"one table row for {name!r} expected in:\n{output}"
    return rows[0]


@pytest.mark.slow
def test_batch_benchmark_prints_the_dask_ratio_beside_the_local_process_ratio() -> None:
    done = subprocess.run([sys.executable, str(BENCH_BATCH), "--years", "10", "--rounds", "1"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    rate = {name: float(table_row(done.stdout, name)[0]) for name in (ONE, LOCAL, DASK)}
    versus_one = {name: table_row(done.stdout, name)[3] for name in (ONE, LOCAL, DASK)}
    assert versus_one[ONE] == "1.00x"

    measured = re.search(r"2 workers vs 1, measured: local processes ([\d.]+)x, Dask ([\d.]+)x", done.stdout)
    assert measured is not None, done.stdout
    local, dask = measured.groups()
    assert (f"{local}x", f"{dask}x") == (versus_one[LOCAL], versus_one[DASK])
    for printed, name in ((local, LOCAL), (dask, DASK)):  # the table's years/s are rounded to 0.1, the ratio to 0.01
        low, high = (rate[name] - 0.05) / (rate[ONE] + 0.05), (rate[name] + 0.05) / (rate[ONE] - 0.05)
        assert low - 0.005 <= float(printed) <= high + 0.005, (name, printed, rate)
    assert re.search(r"2 workers vs 1, steady pace: local processes [\d.]+x, Dask [\d.]+x", done.stdout)
    assert re.search(r"each round's own ratio.*local processes [\d.]+x median.*Dask [\d.]+x median", done.stdout)
