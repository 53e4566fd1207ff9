"""Benchmark: cost of ABC-SMC calibration, model against pyabc, and the shipped settings' wall time.

Run on demand: ``uv run python benchmarks/bench_calibration.py [--population N] [--generations G] [--dask] [--write]``.

1. Model time: serial runs of the calibration simulator (``baseline_2011``, 1,500 people per
   group, full year) at prior draws, after one warm-up run: seconds per simulation.
2. pyabc's own overhead: the same ABC-SMC settings (single process) with a stand-in model that
   returns Poisson counts instantly: seconds per simulation that are pyabc's alone.
3. A small real calibration on 2 local processes (MulticoreEvalParallelSampler): simulations per
   second; the time per simulation splits into model (1) and pyabc (2):
   model share = model / (model + pyabc).
4. With ``--dask``: the same small calibration through ``DaskDistributedSampler`` on the loopback
   2-worker cluster of ``--scheduler local`` (cluster start-up and worker warm-up excluded).
5. Extrapolation: wall time of the shipped settings (population and simulations read from
   calibration/results/summary.json) and of population 500 x 5 generations at the measured rate.

``--write`` stores the report as the ``benchmark`` section of calibration/results/summary.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent.parent / "calibration" / "results"


def model_seconds(n: int) -> float:
    from calibration.abc import FREE_PARAMETERS, prior_ranges
    from calibration.simulator import Simulator

    simulator = Simulator()
    rng = np.random.default_rng(0)
    ranges = prior_ranges(FREE_PARAMETERS)
    simulator({k: (lo + hi) / 2 for k, (lo, hi) in ranges.items()})  # warm-up
    began = time.perf_counter()
    for _ in range(n):
        simulator({k: rng.uniform(lo, hi) for k, (lo, hi) in ranges.items()})
    return (time.perf_counter() - began) / n


class _Instant:
    """Stand-in model: Poisson counts around the observed targets, no simulation."""

    def __init__(self) -> None:
        from calibration.targets import observed_statistics

        self.observed = observed_statistics()

    def __call__(self, params):
        from calibration.targets import TARGETS

        out = {k: float(np.random.poisson(self.observed[k] * (0.5 + float(params["legitimacy"])))) for k in TARGETS}
        out["seed"] = 0.0
        return out


def pyabc_overhead(population: int, generations: int) -> tuple[float, int]:
    import pyabc

    from calibration.abc import FREE_PARAMETERS, _quiet_pyabc, make_distance, make_prior
    from calibration.targets import TARGETS, observed_statistics

    _quiet_pyabc()
    observed = {k: observed_statistics()[k] for k in TARGETS}
    abc = pyabc.ABCSMC(_Instant(), make_prior(FREE_PARAMETERS), make_distance(), population_size=population,
                       sampler=pyabc.sampler.SingleCoreSampler())
    with tempfile.TemporaryDirectory() as tmp:
        abc.new(f"sqlite:///{tmp}/o.db", observed)
        began = time.perf_counter()
        history = abc.run(max_nr_populations=generations)
        wall = time.perf_counter() - began
        sims = int(history.total_nr_simulations)
    return wall / sims, sims


def small_calibration(population: int, generations: int, scheduler: str | None = None) -> dict[str, float]:
    from calibration.abc import calibrate
    from calibration.targets import observed_statistics

    with tempfile.TemporaryDirectory() as tmp:
        run = calibrate(observed_statistics(), Path(tmp) / "b.db", population=population, generations=generations,
                        scheduler=scheduler, n_procs=2, progress=False)
    return {"simulations": run.total_simulations, "wall_seconds": run.walltime_seconds,
            "sims_per_second": run.total_simulations / run.walltime_seconds}


def _warm_up() -> None:
    from calibration.simulator import Simulator

    Simulator()({"legitimacy": 0.8})


def dask_calibration(population: int, generations: int) -> dict[str, float]:
    """The small calibration on the ``--scheduler local`` cluster, its workers warmed up first (imports and
    compilation, ~3 s each, which the forked local workers inherit from this process)."""
    from distributed import Client

    from sim.cluster import local_cluster

    cluster = local_cluster(2)
    try:
        with Client(cluster) as client:
            client.run(_warm_up)
        return small_calibration(population, generations, cluster.scheduler_address)
    finally:
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=40)
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--model-runs", type=int, default=10)
    parser.add_argument("--dask", action="store_true", help="also time the Dask sampler on a loopback cluster")
    parser.add_argument("--write", action="store_true", help="store the report in calibration/results/summary.json")
    args = parser.parse_args()

    per_model = model_seconds(args.model_runs)
    per_pyabc, overhead_sims = pyabc_overhead(args.population, args.generations)
    small = small_calibration(args.population, args.generations)
    model_share = per_model / (per_model + per_pyabc)
    report = {
        "model_seconds_per_simulation": round(per_model, 4),
        "pyabc_seconds_per_simulation": round(per_pyabc, 4),
        "pyabc_overhead_simulations": overhead_sims,
        "small_calibration": {"population": args.population, "generations": args.generations,
                              **{k: round(v, 3) for k, v in small.items()}},
        "model_share_of_time_per_simulation": round(model_share, 3),
    }
    if args.dask:
        report["small_calibration_dask"] = {k: round(v, 3) for k, v in dask_calibration(args.population,
                                                                                      args.generations).items()}
    summary = RESULTS / "summary.json"
    if summary.is_file():
        calibration = json.loads(summary.read_text()).get("calibration", {})
        sims = calibration.get("total_simulations")
        population = calibration.get("population")
        if sims and population:
            rate = small["sims_per_second"]
            report["extrapolated"] = {
                "shipped": {"population": population, "generations": calibration.get("generations_completed"),
                            "simulations": sims, "minutes_at_measured_rate": round(sims / rate / 60, 1)},
                "population_500_same_generations": {"simulations": int(sims * 500 / population),
                                                    "minutes": round(sims * 500 / population / rate / 60, 1)},
            }
    print(json.dumps(report, indent=2))
    if args.write:
        from calibration.report import update_summary

        report["note"] = (f"benchmarks/bench_calibration.py --population {args.population} --generations "
                          f"{args.generations} --model-runs {args.model_runs}{' --dask' if args.dask else ''}, "
                          "shared 2-core machine; model share = model / (model + pyabc) per simulation")
        update_summary(RESULTS, benchmark=report)


if __name__ == "__main__":
    main()
