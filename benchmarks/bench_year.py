"""Benchmark: one simulated 2011 year of the national model, and its cost against scale.

Run on demand: ``uv run python benchmarks/bench_year.py [--repeats N] [--skip-scaling]``.

1. A year at the default national scale (baseline_2011, ~10,900 civilian groups over all 16
   regions, cells and police active), model construction included: median over repeats,
   against the 0.05 s target. Side by side, in the same run: Mesa's own civil-violence example
   (the reference way to write such a model), timed per agent-step and extrapolated to the same
   number of agents and days.
2. Cost against scale: time and peak memory for one year at four scales up to the largest the
   scenario bounds allow (``scale.people_per_agent`` >= 20: about 820,000 civilian groups), each in
   a fresh process so peak memory is that of the run alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

from sim.scenario import MIN_PEOPLE_PER_AGENT

TARGET_SECONDS = 0.05
#: Civilian groups; the last is the finest scale ``scale.people_per_agent``'s lower bound allows.
SCALES = (10_000, 100_000, 300_000, 800_000)


def time_year(people_per_agent: int | None = None, repeats: int = 11) -> dict[str, float]:
    """Median construction, step and total time of a full year (after one warm-up run)."""
    from sim.mesa_adapter import release_agents
    from sim.run import build_model, simulate
    from sim.scenario import load_scenario

    overrides = [f"scale.people_per_agent={people_per_agent}"] if people_per_agent else []
    scenario = load_scenario("baseline_2011", overrides=overrides)
    simulate(scenario, 10_000)  # warm-up: numba cache load, layout rasterisation, gc freeze
    build, total = [], []
    for seed in range(repeats):
        start = time.perf_counter()
        model = build_model(scenario, seed)
        build.append(time.perf_counter() - start)
        civilians, agents = len(model.civilians), len(model.agents)
        release_agents(model)  # so that it is freed now, not by a collection inside the timed run
        del model
        # What `kazsim run` and batches call: construction, 365 days, the event and daily tables.
        start = time.perf_counter()
        simulate(scenario, seed)
        total.append(time.perf_counter() - start)
    return {
        "civilians": civilians,
        "agents": agents,
        "build_s": statistics.median(build),
        "year_s": statistics.median(total),
        "year_min_s": min(total),
    }


def mesa_reference_per_agent_step(steps: int = 15) -> float:
    """Seconds per agent-step of Mesa's civil-violence example (40x40, its app's settings)."""
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence, EpsteinScenario

    scenario = EpsteinScenario(rng=1, citizen_density=0.7, cop_density=0.04, legitimacy=0.82, max_jail_term=30)
    model = EpsteinCivilViolence(40, 40, scenario=scenario)
    model.step()
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    return (time.perf_counter() - start) / steps / len(model.agents)


def scaling_child(people_per_agent: int) -> None:
    """Run in a child process: one year at a scale, printing time and peak memory as JSON."""
    result = time_year(people_per_agent, repeats=1)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    """Print the benchmark tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scaling_child(args.child)
        return

    year = time_year(repeats=args.repeats)
    reference = mesa_reference_per_agent_step()
    mesa_year = reference * year["civilians"] * 365
    print(f"One simulated year, baseline_2011 at default scale ({year['civilians']:,} civilian groups, "
          f"{year['agents']:,} Mesa agents), median of {args.repeats}:")
    print(f"  {'':34s}{'seconds':>10s}{'ratio':>12s}")
    print(f"  {'kazsim year (simulate(): all incl.)':34s}{year['year_s']:>10.3f}{'':>12s}")
    print(f"  {'  of which construction':34s}{year['build_s']:>10.3f}")
    print(f"  {'  fastest repeat':34s}{year['year_min_s']:>10.3f}")
    print(f"  {'target':34s}{TARGET_SECONDS:>10.3f}{year['year_s'] / TARGET_SECONDS:>11.2f}x")
    print(f"  {'Mesa example, same agents x days':34s}{mesa_year:>10.1f}{mesa_year / year['year_s']:>11.0f}x slower")
    print(f"  (Mesa example measured now: {reference * 1e6:.1f} us per agent-step)")

    if args.skip_scaling:
        return
    print("\nCost against scale (one year each, fresh process, construction included):")
    print(f"  {'civilian groups':>16s}{'seconds':>10s}{'us/group-day':>14s}{'peak MB':>10s}")
    population = 16_354_739
    for groups in SCALES:
        people = max(MIN_PEOPLE_PER_AGENT, round(population / groups))
        out = subprocess.run([sys.executable, __file__, "--child", str(people)], capture_output=True, text=True,
                             check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        per = row["year_s"] / row["civilians"] / 365 * 1e6
        print(f"  {row['civilians']:>16,d}{row['year_s']:>10.2f}{per:>14.3f}{row['peak_mb']:>10.0f}")


if __name__ == "__main__":
    main()
